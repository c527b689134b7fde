#pragma once
// Splitting special-token texts out of raw text before the tokenizer proper
// runs, as llama.cpp's tokenizer_st_partition does.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace kvscope {

// A piece of the input: either raw text [offset, offset+length) or one token.
struct Fragment {
    TokenId token = -1;  // -1: raw text
    size_t offset = 0;
    size_t length = 0;
    bool is_text() const { return token < 0; }
};

struct SpecialToken {
    TokenId id;
    const std::string* text;
    bool control_or_unknown;  // only split out when parse_special is on
};

// The special tokens to look for, longest text first (ties by id so the
// order is deterministic). llama.cpp processes them one after another over
// the whole text, so a longer token wins over a shorter one it contains.
std::vector<SpecialToken> collect_special_tokens(const std::vector<std::string>& tokens, const std::vector<TokenAttr>& attrs);

// User-defined tokens are always split out (Hugging Face does the same);
// control and unknown ones only when parse_special is true.
std::vector<Fragment> partition_special(std::string_view text, const std::vector<SpecialToken>& specials, bool parse_special);

}  // namespace kvscope
