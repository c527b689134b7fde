// SentencePiece-style tokenizer (tokenizer.ggml.model = "llama"), as
// llama.cpp's llm_tokenizer_spm_session: spaces become U+2581, the text is
// cut into UTF-8 characters, and the adjacent pair whose concatenation is the
// vocabulary entry of highest score is merged first (leftmost on ties) until
// no pair forms a token. Characters that are not tokens fall back to <0xXX>
// byte tokens.
#include <algorithm>
#include <cstdlib>
#include <queue>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace kvscope {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

struct Symbol {
    size_t offset, length;
    int prev, next;
};

struct Candidate {
    float score;
    int left, right;
    size_t length;  // of the merged text at push time
    // Highest score first, then leftmost.
    bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
};

std::string escape_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 4);
    for (char c : text) {
        if (c == ' ')
            out += kSpaceMark;
        else
            out.push_back(c);
    }
    return out;
}

}  // namespace

TokenId SpmTokenizer::byte_token(uint8_t byte) const {
    static const char* hex = "0123456789ABCDEF";
    const char name[6] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>'};
    if (TokenId id = lookup(std::string_view(name, 6)); id >= 0) return id;
    // llama.cpp then tries the byte itself as a token (and throws without one).
    const char raw = static_cast<char>(byte);
    if (TokenId id = lookup(std::string_view(&raw, byte == 0 ? 0 : 1)); id >= 0) return id;
    return unk_;
}

void SpmTokenizer::encode_text(const std::string& text, std::vector<TokenId>& out) const {
    std::vector<Symbol> symbols;
    for (size_t offset = 0; offset < text.size();) {
        const size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(text[offset])), text.size() - offset);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({offset, n, index - 1, offset + n == text.size() ? -1 : index + 1});
        offset += n;
    }
    const std::string_view t = text;

    std::priority_queue<Candidate> queue;
    const auto consider = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const size_t length = symbols[left].length + symbols[right].length;
        const TokenId id = lookup(t.substr(symbols[left].offset, length));
        if (id >= 0) queue.push({scores_[static_cast<size_t>(id)], left, right, length});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& left = symbols[c.left];
        Symbol& right = symbols[c.right];
        if (left.length == 0 || right.length == 0 || left.length + right.length != c.length) continue;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = c.left;
        consider(left.prev, c.left);
        consider(c.left, left.next);
    }

    // Every merged symbol is a token by construction; single characters may not be.
    for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
        const std::string_view piece = t.substr(symbols[i].offset, symbols[i].length);
        if (TokenId id = lookup(piece); id >= 0) {
            out.push_back(id);
            continue;
        }
        for (char c : piece) out.push_back(byte_token(static_cast<uint8_t>(c)));
    }
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<TokenId> out;
    if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
    // As in llama.cpp, a space is prefixed to the text at the start and after every special token.
    bool after_special = true;
    for (const Fragment& f : partition_special(text, specials_, parse_special)) {
        if (f.is_text()) {
            std::string piece = (add_space_prefix_ && after_special) ? " " : "";
            piece += text.substr(f.offset, f.length);
            encode_text(escape_spaces(piece), out);
            after_special = false;
        } else {
            out.push_back(f.token);
            after_special = true;
        }
    }
    if (add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
    return out;
}

std::string SpmTokenizer::token_to_piece(TokenId id, bool special) const {
    const std::string& text = token_text(id);
    switch (token_attr(id)) {
        case TokenAttr::Control:
        case TokenAttr::Unknown:
            return special ? text : std::string();
        case TokenAttr::UserDefined:
            return text;
        case TokenAttr::Normal: {
            std::string out;
            for (size_t pos = 0; pos < text.size();) {
                if (text.compare(pos, kSpaceMark.size(), kSpaceMark) == 0) {
                    out.push_back(' ');
                    pos += kSpaceMark.size();
                } else {
                    out.push_back(text[pos++]);
                }
            }
            return out;
        }
        case TokenAttr::Byte:  // "<0xXX>"
            return std::string(1, static_cast<char>(std::strtol(text.substr(std::min<size_t>(3, text.size()), 2).c_str(), nullptr, 16)));
        default:
            return std::string();
    }
}

}  // namespace kvscope
