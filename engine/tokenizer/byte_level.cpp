#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace kvscope::byte_level {

namespace {

bool maps_to_itself(uint32_t b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

struct Tables {
    std::array<uint32_t, 256> to_cp{};
    std::array<std::string, 256> to_utf8;
    std::array<int16_t, 0x100 + 68> from_cp{};  // -1: not in the alphabet
    Tables() {
        from_cp.fill(-1);
        uint32_t next = 0x100;
        for (uint32_t b = 0; b < 256; ++b) {
            to_cp[b] = maps_to_itself(b) ? b : next++;
            to_utf8[b] = utf8::encode(to_cp[b]);
            from_cp[to_cp[b]] = static_cast<int16_t>(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

uint32_t byte_to_cp(uint8_t byte) { return tables().to_cp[byte]; }

std::optional<uint8_t> cp_to_byte(uint32_t cp) {
    const Tables& t = tables();
    if (cp >= t.from_cp.size() || t.from_cp[cp] < 0) return std::nullopt;
    return static_cast<uint8_t>(t.from_cp[cp]);
}

std::string encode(std::string_view bytes) {
    const Tables& t = tables();
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) out += t.to_utf8[static_cast<uint8_t>(c)];
    return out;
}

}  // namespace kvscope::byte_level
