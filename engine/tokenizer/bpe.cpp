// Byte-level BPE (GPT-2 family), as llama.cpp's llm_tokenizer_bpe_session:
// within each pre-tokenized word, start from single characters of the
// byte-mapped text and repeatedly merge the adjacent pair of lowest merge
// rank, leftmost first on ties. A priority queue of candidate pairs keeps
// this O(n log n) per word; stale candidates are skipped when popped.
#include <algorithm>
#include <functional>
#include <queue>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace kvscope {

namespace {

struct Symbol {
    size_t offset;  // into the word
    size_t length;  // 0 once merged into its left neighbour
    int prev, next;
};

struct Candidate {
    int rank;
    int left, right;
    size_t left_length, right_length;  // at push time, to detect stale entries
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

std::string pair_key(std::string_view left, std::string_view right) {
    std::string key;
    key.reserve(left.size() + right.size() + 1);
    key.append(left).push_back('\0');
    key.append(right);
    return key;
}

}  // namespace

int BpeTokenizer::merge_rank(std::string_view left, std::string_view right) const {
    auto it = ranks_.find(pair_key(left, right));
    return it == ranks_.end() ? -1 : it->second;
}

void BpeTokenizer::encode_word(const std::string& word, std::vector<TokenId>& out) const {
    if (ignore_merges_) {
        if (TokenId id = lookup(word); id >= 0) {
            out.push_back(id);
            return;
        }
    }
    std::vector<Symbol> symbols;
    for (size_t offset = 0; offset < word.size();) {
        const size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(word[offset])), word.size() - offset);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({offset, n, index - 1, offset + n == word.size() ? -1 : index + 1});
        offset += n;
    }
    const std::string_view w = word;
    const auto text = [&](int i) { return w.substr(symbols[i].offset, symbols[i].length); };

    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    const auto consider = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const int rank = merge_rank(text(left), text(right));
        if (rank >= 0) queue.push({rank, left, right, symbols[left].length, symbols[right].length});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& left = symbols[c.left];
        Symbol& right = symbols[c.right];
        // A symbol only grows by absorbing its right neighbour, so unchanged
        // lengths mean the pair is still adjacent and spells the same text.
        if (left.length == 0 || right.length == 0 || left.length != c.left_length || right.length != c.right_length) continue;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = c.left;
        consider(left.prev, c.left);
        consider(c.left, left.next);
    }

    for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
        const std::string_view piece = text(i);
        if (TokenId id = lookup(piece); id >= 0) {
            out.push_back(id);
            continue;
        }
        // Not in the vocabulary: llama.cpp falls back to single bytes that
        // happen to be tokens and drops the rest.
        for (char c : piece)
            if (TokenId id = lookup(std::string_view(&c, 1)); id >= 0) out.push_back(id);
    }
}

void BpeTokenizer::encode_text(std::string_view text, std::vector<TokenId>& out) const {
    for (const std::string& word : pre_tokenize(pre_kind_, text)) encode_word(byte_level::encode(word), out);
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<TokenId> out;
    if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
    for (const Fragment& f : partition_special(text, specials_, parse_special)) {
        if (f.is_text())
            encode_text(text.substr(f.offset, f.length), out);
        else
            out.push_back(f.token);
    }
    if (add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
    return out;
}

std::string BpeTokenizer::token_to_piece(TokenId id, bool special) const {
    const TokenAttr attr = token_attr(id);
    const std::string& text = token_text(id);
    switch (attr) {
        case TokenAttr::Control:
        case TokenAttr::Unknown:
            return special ? text : std::string();
        case TokenAttr::UserDefined:
            return text;
        case TokenAttr::Normal: {
            std::string bytes;
            for (size_t offset = 0; offset < text.size();) {
                const uint32_t cp = utf8::decode_one(text, offset);
                if (auto b = byte_level::cp_to_byte(cp)) {
                    bytes.push_back(static_cast<char>(*b));
                } else {
                    // A vocabulary entry outside the byte alphabet: llama.cpp's marker.
                    static const char* hex = "0123456789abcdef";
                    bytes += "[UNK_BYTE_0x";
                    for (unsigned char c : utf8::encode(cp)) {
                        bytes.push_back(hex[c >> 4]);
                        bytes.push_back(hex[c & 15]);
                    }
                    bytes += text + "]";
                }
            }
            return bytes;
        }
        default:  // unused, byte, undefined: llama.cpp prints nothing
            return std::string();
    }
}

}  // namespace kvscope
