#pragma once
// GPT-2's byte-level alphabet: every byte is written as one printable code
// point so that BPE vocabularies never hold raw control bytes or spaces.
// Bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for themselves; the other
// 68 bytes, in increasing order, become U+0100, U+0101, ... (space -> U+0120
// 'Ġ', newline -> U+010A 'Ċ').
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kvscope::byte_level {

uint32_t byte_to_cp(uint8_t byte);
// The byte a code point of the alphabet stands for; nullopt outside it.
std::optional<uint8_t> cp_to_byte(uint32_t cp);

// Maps every byte of `bytes` to its code point (UTF-8 encoded).
std::string encode(std::string_view bytes);

}  // namespace kvscope::byte_level
