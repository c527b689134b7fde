#pragma once
// UTF-8 helpers with llama.cpp's exact leniency (src/unicode.cpp), since the
// token ids of malformed text depend on it:
//  - a sequence is accepted when its lead byte announces a length and the
//    following bytes are continuation bytes; overlong forms and surrogates
//    are NOT rejected;
//  - anything else yields U+FFFD and consumes exactly one byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvscope::utf8 {

inline constexpr uint32_t kReplacement = 0xFFFD;

// Length announced by a lead byte (1 for continuation bytes, 4 for 0xF8..0xFF),
// as llama.cpp's unicode_len_utf8.
size_t sequence_length(unsigned char lead);

// Decodes one code point at `offset`, advancing it.
uint32_t decode_one(std::string_view text, size_t& offset);
std::vector<uint32_t> decode(std::string_view text);

// Appends the UTF-8 form of a code point; values above U+10FFFF are written
// as U+FFFD (llama.cpp throws there).
void append(std::string& out, uint32_t cp);
std::string encode(uint32_t cp);

}  // namespace kvscope::utf8
