#pragma once
// Pre-tokenizers of byte-level BPE vocabularies: they cut text into words
// before BPE merges run inside each word. llama.cpp describes each one as a
// list of regexes applied in sequence (each splits the pieces of the previous
// one further); the few patterns KVScope supports are matched by hand here,
// since std::regex knows no \p{..} classes and is slow.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvscope {

enum class PreTokenizer {
    // llama.cpp's "default" list: [\p{P}\$\+<=>\^~\|]+, then gpt2, then \p{N}+, then [0-9][0-9][0-9].
    Default,
    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
    Gpt2,
    // [\p{P}\$\+<=>\^~\|`]+, then gpt2, then [0-9][0-9][0-9] (falcon).
    Falcon,
    // [\r\n], then \s?\p{L}+, then \s?\p{P}+, then [一-龥ࠀ-一가-퟿]+, then \p{N} (deepseek-coder).
    DeepSeekCoder,
    // [\r\n], then \s? + a run of its own Latin/Greek/Cyrillic/... letter ranges, then \s? + a run of
    // ASCII/full-width punctuation, then \s+$, then [一-龥ࠀ-一가-퟿]+, then \p{N}+ (deepseek-llm).
    DeepSeekLlm,
    // \p{N} (every digit alone), then the gpt2 pattern (smollm, starcoder, refact, command-r).
    DigitsThenGpt2,
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3,
    // Llama3's pattern with \p{N} for \p{N}{1,3}: every digit alone (qwen2).
    Qwen2,
};

// Maps tokenizer.ggml.pre to a pre-tokenizer ("" means absent, which
// llama.cpp treats as "default"). Throws kvscope::Error naming the value and
// the supported names for anything else.
PreTokenizer pre_tokenizer_from_name(const std::string& pre);
// The supported tokenizer.ggml.pre values, comma separated.
std::string supported_pre_tokenizer_names();

namespace pretok {

// A split is a list of piece lengths (in code points) covering the text.
using Pieces = std::vector<size_t>;

// Each function refines every piece of `in` on its own (no match crosses a
// piece boundary), as llama.cpp's unicode_regex_split does.
Pieces split_gpt2(const std::vector<uint32_t>& cps, const Pieces& in);
// max_digits: 3 for llama3's \p{N}{1,3}, 1 for qwen2's \p{N}.
Pieces split_llama3(const std::vector<uint32_t>& cps, const Pieces& in, size_t max_digits = 3);
// \p{N}: every number code point becomes a piece of its own.
Pieces split_each_number(const std::vector<uint32_t>& cps, const Pieces& in);
// \p{N}+: runs of number code points become pieces.
Pieces split_number_runs(const std::vector<uint32_t>& cps, const Pieces& in);
// [\p{P}\$\+<=>\^~\|]+, or with the backtick too (falcon).
Pieces split_punctuation_runs(const std::vector<uint32_t>& cps, const Pieces& in, bool with_backtick = false);
// [\r\n]: every CR and LF alone.
Pieces split_each_newline(const std::vector<uint32_t>& cps, const Pieces& in);
// \s?X+ where X is a code point with any of `run_flags` (\p{L}: kLetter, \p{P}: kPunctuation).
Pieces split_space_then_run(const std::vector<uint32_t>& cps, const Pieces& in, uint16_t run_flags);
// DeepSeek LLM's two explicit classes, each as \s?[class]+.
Pieces split_deepseek_llm_words(const std::vector<uint32_t>& cps, const Pieces& in);
// \s+$: the whitespace that ends a piece becomes a piece of its own.
Pieces split_trailing_space(const std::vector<uint32_t>& cps, const Pieces& in);
// [一-龥ࠀ-一가-퟿]+ (code point ranges U+0800–U+9FA5, U+AC00–U+D7FF).
Pieces split_cjk_hangul_runs(const std::vector<uint32_t>& cps, const Pieces& in);
// [0-9][0-9][0-9]: leftmost non-overlapping triples of ASCII digits.
Pieces split_ascii_digit_triples(const std::vector<uint32_t>& cps, const Pieces& in);

}  // namespace pretok

// Cuts `text` into words (UTF-8; malformed bytes become U+FFFD, as in llama.cpp).
std::vector<std::string> pre_tokenize(PreTokenizer kind, std::string_view text);

}  // namespace kvscope
