#include "gguf/gguf_text.h"

namespace kvscope::gguf {

std::string quoted(std::string_view s) {
    constexpr size_t kMaxShown = 96;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    if (s.size() > kMaxShown) out += "...";
    out += "'";
    return out;
}

}  // namespace kvscope::gguf
