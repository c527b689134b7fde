#include "tokenizer/utf8.h"

namespace kvscope::utf8 {

size_t sequence_length(unsigned char lead) {
    static constexpr size_t kLength[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLength[lead >> 4];
}

namespace {
bool is_continuation(std::string_view text, size_t i) {
    return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
}
}  // namespace

uint32_t decode_one(std::string_view text, size_t& offset) {
    const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(text[offset + k])); };
    const uint32_t lead = b(0);
    size_t n = 0;
    uint32_t cp = 0;
    if (lead < 0x80) {
        offset += 1;
        return lead;
    } else if ((lead & 0xE0) == 0xC0) {
        n = 2;
        cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        n = 3;
        cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        n = 4;
        cp = lead & 0x07;
    } else {  // stray continuation byte or 0xF8..0xFF
        offset += 1;
        return kReplacement;
    }
    for (size_t k = 1; k < n; ++k) {
        if (!is_continuation(text, offset + k)) {
            offset += 1;
            return kReplacement;
        }
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    offset += n;
    return cp;
}

std::vector<uint32_t> decode(std::string_view text) {
    std::vector<uint32_t> cps;
    cps.reserve(text.size());
    for (size_t offset = 0; offset < text.size();) cps.push_back(decode_one(text, offset));
    return cps;
}

void append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x110000) {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        append(out, kReplacement);
    }
}

std::string encode(uint32_t cp) {
    std::string s;
    append(s, cp);
    return s;
}

}  // namespace kvscope::utf8
