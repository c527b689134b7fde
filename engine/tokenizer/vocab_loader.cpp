// Tokenizer::from_gguf: reads the tokenizer.ggml.* metadata and applies
// llama.cpp's per-model defaults (src/llama-vocab.cpp, llama_vocab::impl::load).
#include <algorithm>
#include <initializer_list>
#include <optional>

#include "tokenizer/tokenizer_impl.h"

namespace kvscope {

namespace {

constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTokenType = "tokenizer.ggml.token_type";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kMerges = "tokenizer.ggml.merges";

// Token texts llama.cpp recognises as end of generation (llama-vocab.cpp,
// "maintain a list of tokens that cause end-of-generation").
constexpr std::initializer_list<const char*> kEogNames = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                                          "<|endoftext|>", "<|eom_id|>", "<EOT>"};
// Candidates for the EOT token when tokenizer.ggml.eot_token_id is absent.
constexpr std::initializer_list<const char*> kEotNames = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                                          "<|endoftext|>", "<EOT>", "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"};
// FIM tokens llama.cpp detects by name; pad/repo/sep also end generation.
constexpr std::initializer_list<const char*> kFimOtherNames = {
    "<|fim_prefix|>", "<fim-prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>",
    "<|fim_suffix|>", "<fim-suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "hole\xEF\xBD\x9C>", "<SUF>",
    "<|fim_middle|>", "<fim-middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>"};
constexpr std::initializer_list<const char*> kFimPadNames = {"<|fim_pad|>", "<fim-pad>", "<PAD>"};
constexpr std::initializer_list<const char*> kFimRepNames = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"};
constexpr std::initializer_list<const char*> kFimSepNames = {"<|file_sep|>"};

TokenAttr attr_from_type(int32_t type) {
    switch (type) {
        case 1: return TokenAttr::Normal;
        case 2: return TokenAttr::Unknown;
        case 3: return TokenAttr::Control;
        case 4: return TokenAttr::UserDefined;
        case 5: return TokenAttr::Unused;
        case 6: return TokenAttr::Byte;
        default: return TokenAttr::Undefined;
    }
}

}  // namespace

// Friend of the tokenizer classes: fills their members.
struct VocabLoader {
    const gguf::GgufFile& file;

    void load_common(VocabTokenizer& t, const std::string& model, const std::string& pre) {
        t.model_ = model;
        t.pre_ = pre;
        t.tokens_ = file.get_string_array(kTokens);
        const size_t n = t.tokens_.size();
        if (n == 0) throw gguf::GgufError(std::string("GGUF: key '") + kTokens + "' is empty");
        for (size_t i = 0; i < n; ++i)
            if (t.tokens_[i].empty()) t.tokens_[i] = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp

        t.attrs_.assign(n, TokenAttr::Normal);
        if (file.find(kTokenType)) {
            const std::vector<int32_t> types = file.get_i32_array(kTokenType);
            check_length(kTokenType, types.size(), n);
            for (size_t i = 0; i < n; ++i) t.attrs_[i] = attr_from_type(types[i]);
        }
        for (size_t i = 0; i < n; ++i) {
            auto [it, inserted] = t.token_to_id_.emplace(t.tokens_[i], static_cast<TokenId>(i));
            if (!inserted) throw gguf::GgufError(std::string("GGUF: key '") + kTokens + "' holds '" + t.tokens_[i] + "' twice (ids " +
                                                 std::to_string(it->second) + " and " + std::to_string(i) + ")");
        }
    }

    void check_length(const char* key, size_t got, size_t n) const {
        if (got != n)
            throw gguf::GgufError(std::string("GGUF: key '") + key + "' has " + std::to_string(got) + " entries, expected " +
                                  std::to_string(n) + " (one per token)");
    }

    // An id from the metadata, or `fallback` when the key is absent.
    TokenId special_id(VocabTokenizer& t, const char* key, TokenId fallback) const {
        const std::optional<uint32_t> id = file.find_u32(key);
        if (!id) return fallback < static_cast<TokenId>(t.tokens_.size()) ? fallback : -1;
        if (*id >= t.tokens_.size())
            throw gguf::GgufError(std::string("GGUF: key '") + key + "' = " + std::to_string(*id) + " is not a token id (n_vocab " +
                                  std::to_string(t.tokens_.size()) + ")");
        return static_cast<TokenId>(*id);
    }

    // The lowest id among tokens named in `names`, -1 if none. llama.cpp
    // takes the first hit of a hash-map walk; for the vocabularies we know
    // (SmolLM2: <|endoftext|> = 0 vs <|im_end|> = 2) that is the lowest id.
    TokenId lowest_named(const VocabTokenizer& t, std::initializer_list<const char*> names) const {
        TokenId best = -1;
        for (const char* name : names) {
            const TokenId id = t.lookup(name);
            if (id >= 0 && (best < 0 || id < best)) best = id;
        }
        return best;
    }

    // Special ids, end-of-generation set, and llama.cpp's "control-looking
    // token" fix-ups (such tokens are made control tokens whatever their type).
    void load_specials(VocabTokenizer& t, TokenId bos, TokenId eos, TokenId unk) {
        t.bos_ = special_id(t, "tokenizer.ggml.bos_token_id", bos);
        t.eos_ = special_id(t, "tokenizer.ggml.eos_token_id", eos);
        t.unk_ = special_id(t, "tokenizer.ggml.unknown_token_id", unk);
        t.eot_ = special_id(t, "tokenizer.ggml.eot_token_id", -1);
        TokenId eom = special_id(t, "tokenizer.ggml.eom_token_id", -1);
        TokenId fim_pad = special_id(t, "tokenizer.ggml.fim_pad_token_id", -1);
        TokenId fim_rep = special_id(t, "tokenizer.ggml.fim_rep_token_id", -1);
        TokenId fim_sep = special_id(t, "tokenizer.ggml.fim_sep_token_id", -1);
        t.add_bos_ = file.get_bool("tokenizer.ggml.add_bos_token", t.add_bos_);
        t.add_eos_ = file.get_bool("tokenizer.ggml.add_eos_token", t.add_eos_);

        const auto make_control = [&](TokenId id) {
            if (id >= 0) t.attrs_[static_cast<size_t>(id)] = TokenAttr::Control;
        };
        const auto detect = [&](TokenId& id, std::initializer_list<const char*> names) {
            if (id >= 0) return;
            id = lowest_named(t, names);
            make_control(id);
        };
        detect(t.eot_, kEotNames);
        detect(eom, {"<|eom_id|>"});
        detect(fim_pad, kFimPadNames);
        detect(fim_rep, kFimRepNames);
        detect(fim_sep, kFimSepNames);
        for (const char* name : kFimOtherNames) make_control(t.lookup(name));

        std::vector<TokenId> eog;
        for (TokenId id : {fim_pad, fim_rep, fim_sep}) eog.push_back(id);
        for (const char* name : kEogNames) {
            const TokenId id = t.lookup(name);
            eog.push_back(id);
            make_control(id);
        }
        for (TokenId id : {t.eos_, t.eot_, eom}) eog.push_back(id);
        std::sort(eog.begin(), eog.end());
        eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
        eog.erase(std::remove(eog.begin(), eog.end(), TokenId{-1}), eog.end());
        t.end_of_generation_ = std::move(eog);
    }

    std::unique_ptr<Tokenizer> load_bpe(const std::string& pre) {
        auto t = std::make_unique<BpeTokenizer>();
        t->pre_kind_ = pre_tokenizer_from_name(pre);
        // llama.cpp: llama3-style vocabularies take whole-word tokens as is and add BOS by default.
        if (t->pre_kind_ == PreTokenizer::Llama3) {
            t->ignore_merges_ = true;
            t->add_bos_ = true;
        }
        load_common(*t, "gpt2", pre);
        const std::vector<std::string> merges = file.get_string_array(kMerges);
        t->ranks_.reserve(merges.size());
        for (size_t i = 0; i < merges.size(); ++i) {
            // "A B": split at the first space after the first byte (a merge may start with a space byte).
            const std::string& m = merges[i];
            const size_t space = m.find(' ', 1);
            std::string key = space == std::string::npos ? std::string(1, '\0')
                                                         : m.substr(0, space) + '\0' + m.substr(space + 1);
            t->ranks_.emplace(std::move(key), static_cast<int>(i));
        }
        load_specials(*t, 11, 11, -1);  // llama.cpp's defaults for gpt2 vocabularies
        t->build_indexes();
        return t;
    }

    std::unique_ptr<Tokenizer> load_spm(const std::string& pre) {
        auto t = std::make_unique<SpmTokenizer>();
        t->add_bos_ = true;
        load_common(*t, "llama", pre);
        if (file.find(kScores)) {
            t->scores_ = file.get_f32_array(kScores);
            check_length(kScores, t->scores_.size(), t->tokens_.size());
        } else {
            t->scores_.assign(t->tokens_.size(), 0.0f);
        }
        t->add_space_prefix_ = file.get_bool("tokenizer.ggml.add_space_prefix", true);
        load_specials(*t, 1, 2, 0);
        t->build_indexes();
        return t;
    }
};

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::GgufFile& file) {
    const std::string& model = file.get_string("tokenizer.ggml.model");
    const std::string pre = file.find_string("tokenizer.ggml.pre").value_or("");
    VocabLoader loader{file};
    if (model == "gpt2") return loader.load_bpe(pre);
    if (model == "llama") return loader.load_spm(pre);
    throw Error("unsupported tokenizer model '" + model + "' (tokenizer.ggml.model); supported: gpt2, llama");
}

}  // namespace kvscope
