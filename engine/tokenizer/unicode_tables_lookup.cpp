// Lookups into the generated tables of unicode_tables.cpp.
#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"

namespace kvscope::unicode {

namespace {

uint16_t search_flags(uint32_t cp) {
    // Last range whose first code point is <= cp.
    const FlagRange* end = kFlagRanges + kFlagRangeCount;
    const FlagRange* it = std::upper_bound(kFlagRanges, end, cp, [](uint32_t v, const FlagRange& r) { return v < r.first; });
    return (it - 1)->flags;
}

// Code points below U+0800 (all 1- and 2-byte UTF-8) dominate ordinary text;
// a direct table spares them the binary search.
const std::array<uint16_t, 0x800>& low_table() {
    static const std::array<uint16_t, 0x800> table = [] {
        std::array<uint16_t, 0x800> t{};
        for (uint32_t cp = 0; cp < t.size(); ++cp) t[cp] = search_flags(cp);
        return t;
    }();
    return table;
}

}  // namespace

uint16_t cp_flags(uint32_t cp) {
    if (cp < 0x800) return low_table()[cp];
    if (cp >= 0x110000) return kUndefined;
    return search_flags(cp);
}

uint32_t to_lower(uint32_t cp) {
    const CaseMapping* end = kLowercase + kLowercaseCount;
    const CaseMapping* it = std::lower_bound(kLowercase, end, cp, [](const CaseMapping& m, uint32_t v) { return m.from < v; });
    return (it != end && it->from == cp) ? it->to : cp;
}

}  // namespace kvscope::unicode
