#pragma once
// Unicode character classes for the pre-tokenizers. The tables live in the
// generated unicode_tables.cpp (scripts/gen-unicode-tables.py); the lookups
// are in unicode_tables_lookup.cpp.
#include <cstddef>
#include <cstdint>

namespace kvscope::unicode {

// One bit per general category family (\p{L}, \p{N}, ...), "undefined" for
// unassigned code points, plus the White_Space property (\s).
enum CpFlag : uint16_t {
    kUndefined = 0x001,
    kNumber = 0x002,       // \p{N}
    kLetter = 0x004,       // \p{L}
    kSeparator = 0x008,    // \p{Z}
    kMark = 0x010,         // \p{M}
    kPunctuation = 0x020,  // \p{P}
    kSymbol = 0x040,       // \p{S}
    kControl = 0x080,      // \p{C}
    kWhitespace = 0x100,   // \s
};

struct FlagRange {
    uint32_t first;
    uint16_t flags;
};
struct CaseMapping {
    uint32_t from;
    uint32_t to;
};

extern const char kUnicodeVersion[];
extern const FlagRange kFlagRanges[];
extern const size_t kFlagRangeCount;
extern const CaseMapping kLowercase[];
extern const size_t kLowercaseCount;

// Flags of a code point; code points above U+10FFFF are undefined.
uint16_t cp_flags(uint32_t cp);
// Simple lowercase mapping, or cp itself.
uint32_t to_lower(uint32_t cp);

}  // namespace kvscope::unicode
