#pragma once
// Hyperparameters of a llama-family model, all read from the GGUF metadata
// (keys "<arch>.<name>", e.g. llama.block_count). Nothing here is hard-coded
// per model.
#include <cstdint>
#include <string>

namespace kvscope {

namespace gguf { class GgufFile; }

// How RoPE pairs the dimensions of a head (ggml's rope modes).
enum class RopeLayout {
    Normal,  // adjacent pairs (x[2i], x[2i+1]); llama-arch GGUFs (Q/K permuted by the converter)
    Neox,    // halves (x[i], x[i + rope_dim/2]); GPT-NeoX, Qwen2, ...
};

struct ModelConfig {
    std::string architecture;   // general.architecture
    std::string name;           // general.name ("" if absent)
    int32_t n_embd = 0;         // hidden size
    int32_t n_layer = 0;
    int32_t n_head = 0;         // query heads
    int32_t n_head_kv = 0;      // key/value heads (GQA when < n_head)
    int32_t head_dim = 0;       // n_embd / n_head unless attention.key_length says otherwise
    int32_t n_ff = 0;           // feed-forward hidden size
    int32_t n_ctx_train = 0;    // context length the model was trained for
    int32_t n_vocab = 0;
    int32_t rope_dim = 0;       // dimensions rotated per head (<= head_dim)
    float rope_freq_base = 10000.0f;
    float rms_eps = 1e-5f;
    RopeLayout rope_layout = RopeLayout::Normal;

    int32_t gqa_group() const { return n_head / n_head_kv; }  // query heads per KV head
    int32_t q_dim() const { return n_head * head_dim; }
    int32_t kv_dim() const { return n_head_kv * head_dim; }

    // Reads and validates the metadata. Throws GgufError naming the key when a
    // required one is missing, and InvalidSetting-style Errors when values are
    // inconsistent (e.g. n_head not a multiple of n_head_kv).
    static ModelConfig from_gguf(const gguf::GgufFile& file);
};

}  // namespace kvscope
