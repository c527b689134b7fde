// The parts of Tokenizer shared by both vocabulary types.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/tokenizer_impl.h"

namespace kvscope {

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool special) const {
    std::string text;
    for (TokenId id : ids) text += token_to_piece(id, special);
    return text;
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
    return id >= 0 && std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

TokenId Tokenizer::find_token(std::string_view text) const {
    if (auto* v = dynamic_cast<const VocabTokenizer*>(this)) return v->lookup(text);
    for (size_t i = 0; i < tokens_.size(); ++i)
        if (tokens_[i] == text) return static_cast<TokenId>(i);
    return -1;
}

void VocabTokenizer::build_indexes() { specials_ = collect_special_tokens(tokens_, attrs_); }

TokenId VocabTokenizer::lookup(std::string_view text) const {
    // C++20's unordered_map has no heterogeneous find without a transparent
    // hash; a temporary string is cheap next to the hashing itself.
    auto it = token_to_id_.find(std::string(text));
    return it == token_to_id_.end() ? -1 : it->second;
}

}  // namespace kvscope
