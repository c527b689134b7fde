#pragma once
// Tokenizers of llama-family GGUF files, as llama.cpp implements them
// (src/llama-vocab.cpp, src/unicode.cpp):
//  - tokenizer.ggml.model = "gpt2": byte-level BPE; the pre-tokenizer regexes
//    are chosen by tokenizer.ggml.pre ("smollm"/"starcoder"/"refact"/"command-r",
//    "gpt2", "llama-bpe"/"llama3", "default").
//  - tokenizer.ggml.model = "llama": SentencePiece-style with scores and byte fallback.
// Special and control tokens are split out of the text first when
// parse_special is on.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"

namespace kvscope {

using TokenId = int32_t;

enum class TokenAttr : int32_t { Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Reads the vocabulary from the GGUF metadata. Throws GgufError naming the
    // key when one is missing or inconsistent, kvscope::Error for an
    // unsupported tokenizer.ggml.model / tokenizer.ggml.pre.
    static std::unique_ptr<Tokenizer> from_gguf(const gguf::GgufFile& file);

    // Text -> ids. add_special: prepend BOS / append EOS where the vocabulary
    // asks for it (tokenizer.ggml.add_bos_token / add_eos_token, with the
    // model type's default). parse_special: recognise control and
    // user-defined token texts such as "<|im_start|>" in the text.
    virtual std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const = 0;

    // The bytes a token stands for (may be part of a UTF-8 sequence); control
    // tokens give their text only when `special` is true.
    virtual std::string token_to_piece(TokenId id, bool special = true) const = 0;
    // Concatenated pieces of a sequence.
    std::string decode(const std::vector<TokenId>& ids, bool special = true) const;

    int32_t n_vocab() const { return static_cast<int32_t>(tokens_.size()); }
    const std::string& token_text(TokenId id) const { return tokens_.at(static_cast<size_t>(id)); }  // raw vocab entry
    TokenAttr token_attr(TokenId id) const { return attrs_.at(static_cast<size_t>(id)); }
    TokenId bos() const { return bos_; }   // -1 when the vocabulary has none
    TokenId eos() const { return eos_; }
    TokenId eot() const { return eot_; }   // end of turn (e.g. <|im_end|>), -1 if none
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    // End of generation: EOS, EOT, or another end-of-generation control token.
    bool is_end_of_generation(TokenId id) const;
    const std::string& model_name() const { return model_; }   // "gpt2" or "llama"
    const std::string& pre_name() const { return pre_; }       // tokenizer.ggml.pre, "" if absent
    // Finds a token by its exact vocabulary text, -1 if absent.
    TokenId find_token(std::string_view text) const;

protected:
    std::vector<std::string> tokens_;
    std::vector<TokenAttr> attrs_;
    std::vector<TokenId> end_of_generation_;
    TokenId bos_ = -1, eos_ = -1, eot_ = -1, unk_ = -1;
    bool add_bos_ = false, add_eos_ = false;
    std::string model_, pre_;
};

// ChatML (SmolLM2-Instruct's template): "<|im_start|>{role}\n{content}<|im_end|>\n"
// per message, a default system message first when none is given, and
// "<|im_start|>assistant\n" as the generation prompt.
struct ChatMessage {
    std::string role;
    std::string content;
};
inline constexpr const char* kSmolLM2DefaultSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";
std::string apply_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                         const std::string& default_system = kSmolLM2DefaultSystem);

// Gemma's turns (Gemma 3's tokenizer.chat_template): "<start_of_turn>{role}\n
// {content}<end_of_turn>\n" with the assistant's role named "model", a system
// message folded into the first user turn ("{system}\n\n{user}"), and
// "<start_of_turn>model\n" as the generation prompt. BOS is the tokenizer's.
std::string apply_gemma_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// The chat format of a model: Gemma's for gemma3, ChatML otherwise (the
// format KVScope's default model, SmolLM2-Instruct, was trained with).
enum class ChatFormat { ChatML, Gemma };
ChatFormat chat_format_for(const std::string& architecture);
std::string apply_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace kvscope
