#pragma once
// Hyperparameters of a model, read from the GGUF metadata (keys
// "<arch>.<name>", e.g. llama.block_count) and its architecture's traits
// (model/architecture.h: the rules llama.cpp hard-codes per architecture,
// such as which layers are local). Nothing here is hard-coded per model.
#include <cstdint>
#include <string>
#include <vector>

#include "model/architecture.h"

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
    FfnActivation ffn_activation = FfnActivation::Silu;
    bool qk_norm = false;           // per-head RMSNorm of Q and K before RoPE
    bool post_norms = false;        // RMSNorm of attention and FFN outputs before the residual adds
    bool qkv_bias = false;          // Q/K/V projections add a bias before RoPE (qwen2)
    bool fused_gate_up = false;     // the file's ffn_up.weight holds gate then up rows (phi3)
    float embedding_scale = 1.0f;   // token embeddings are multiplied by this (gemma3: sqrt(n_embd))
    float attention_scale = 0.0f;   // scores are q·k times this (1/sqrt(head_dim))
    bool scale_query = false;       // ... applied to q before the dot product (gemma3), not to the score
    // The model's own sliding window, part of the architecture (not a policy):
    // a local layer's query at position p sees keys at positions > p − window.
    int32_t native_window = 0;            // <arch>.attention.sliding_window; 0 = none
    std::vector<uint8_t> layer_is_local;  // [n_layer] 1 = sliding-window layer
    std::vector<float> layer_rope_base;   // [n_layer] RoPE base of each layer

    int32_t layer_window(int32_t layer) const {  // 0 = the layer attends to everything held
        return layer_is_local[static_cast<size_t>(layer)] ? native_window : 0;
    }
    // Layer-positions a full cache holds after n positions when each local
    // layer keeps only its window: Σ over layers of min(window, n), or n.
    int64_t layer_positions_held(int32_t n) const {
        int64_t total = 0;
        for (int32_t l = 0; l < n_layer; ++l) total += layer_window(l) > 0 && layer_window(l) < n ? layer_window(l) : n;
        return total;
    }
    // One line for people: "15 local (window 512, RoPE base 10000): 0-4, 6-10,
    // 12-16; 3 global (RoPE base 1e+06): 5, 11, 17", or "all 30 global (RoPE base 10000)".
    std::string describe_attention_layers() const;
    // What the architecture adds to a llama block, e.g. "q/k norms, post norms, GeGLU (tanh), embeddings × √640"; "" for llama.
    std::string describe_block_extras() const;

    int32_t gqa_group() const { return n_head / n_head_kv; }  // query heads per KV head
    int32_t q_dim() const { return n_head * head_dim; }
    int32_t kv_dim() const { return n_head_kv * head_dim; }

    // Reads and validates the metadata. Throws GgufError naming the key when a
    // required one is missing, and InvalidSetting-style Errors when values are
    // inconsistent (e.g. n_head not a multiple of n_head_kv).
    static ModelConfig from_gguf(const gguf::GgufFile& file);
};

}  // namespace kvscope
