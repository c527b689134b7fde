#pragma once
// The concrete tokenizers behind Tokenizer::from_gguf. Internal to the
// engine: callers only see kvscope::Tokenizer.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"

namespace kvscope {

// What both tokenizers share: the text -> id map and the special tokens.
class VocabTokenizer : public Tokenizer {
public:
    // Call after tokens_/attrs_ are final (the EOG detection may turn tokens into control tokens).
    void build_indexes();
    TokenId lookup(std::string_view text) const;

protected:
    friend struct VocabLoader;
    std::unordered_map<std::string, TokenId> token_to_id_;
    std::vector<SpecialToken> specials_;
};

// tokenizer.ggml.model = "gpt2": byte-level BPE.
class BpeTokenizer final : public VocabTokenizer {
public:
    std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override;
    std::string token_to_piece(TokenId id, bool special = true) const override;

    // Appends the ids of raw text (no special tokens), for tests.
    void encode_text(std::string_view text, std::vector<TokenId>& out) const;
    int merge_rank(std::string_view left, std::string_view right) const;  // -1 when the pair never merges

private:
    friend struct VocabLoader;
    void encode_word(const std::string& word, std::vector<TokenId>& out) const;

    PreTokenizer pre_kind_ = PreTokenizer::Default;
    bool ignore_merges_ = false;  // llama3: a word that is a whole token is taken as is
    // "left\0right" -> rank (index in tokenizer.ggml.merges; the first one wins).
    std::unordered_map<std::string, int> ranks_;
};

// tokenizer.ggml.model = "llama": SentencePiece BPE over scores, byte fallback.
class SpmTokenizer final : public VocabTokenizer {
public:
    std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override;
    std::string token_to_piece(TokenId id, bool special = true) const override;

private:
    friend struct VocabLoader;
    void encode_text(const std::string& escaped, std::vector<TokenId>& out) const;
    TokenId byte_token(uint8_t byte) const;

    std::vector<float> scores_;
    bool add_space_prefix_ = true;
};

}  // namespace kvscope
