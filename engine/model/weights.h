#pragma once
// Views of a model's weights inside the mapped GGUF file. Matrices stay in
// their quantised form; only the small norm vectors are converted to f32.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "quant/tensor_type.h"

namespace kvscope {

namespace gguf { class GgufFile; }
struct ModelConfig;

// A weight with ne = [cols, rows]: `rows` rows of `cols` elements, row-major,
// as a PyTorch Linear weight [out][in]. y = W·x is one dot product per row.
struct WeightMatrix {
    std::string name;
    TensorType type = TensorType::F32;
    const uint8_t* data = nullptr;  // rows × row_stride bytes, in the mapping
    int64_t cols = 0;               // input features (ne[0])
    int64_t rows = 0;               // output features (ne[1])
    size_t row_stride = 0;          // bytes per row

    const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
    size_t bytes() const { return static_cast<size_t>(rows) * row_stride; }
};

struct LayerWeights {
    std::vector<float> attn_norm;  // [n_embd]
    WeightMatrix wq;               // [n_embd] -> [n_head * head_dim]
    WeightMatrix wk;               // [n_embd] -> [n_head_kv * head_dim]
    WeightMatrix wv;               // [n_embd] -> [n_head_kv * head_dim]
    WeightMatrix wo;               // [n_head * head_dim] -> [n_embd]
    std::vector<float> ffn_norm;   // [n_embd]
    WeightMatrix w_gate;           // [n_embd] -> [n_ff]
    WeightMatrix w_up;             // [n_embd] -> [n_ff]
    WeightMatrix w_down;           // [n_ff] -> [n_embd]
    // Present when the architecture has them (ModelConfig::qk_norm, post_norms), else empty.
    std::vector<float> attn_q_norm;     // [head_dim], shared by the query heads
    std::vector<float> attn_k_norm;     // [head_dim], shared by the KV heads
    std::vector<float> attn_post_norm;  // [n_embd] of the attention output (post_attention_norm)
    std::vector<float> ffn_post_norm;   // [n_embd] of the FFN output (post_ffw_norm)
    // Present when ModelConfig::qkv_bias (qwen2), else empty; added to wq/wk/wv's outputs.
    std::vector<float> bq;  // [n_head * head_dim]
    std::vector<float> bk;  // [n_head_kv * head_dim]
    std::vector<float> bv;  // [n_head_kv * head_dim]
};

struct ModelWeights {
    WeightMatrix token_embd;       // [n_embd] per row, n_vocab rows
    std::vector<LayerWeights> layers;
    std::vector<float> output_norm;  // [n_embd]
    WeightMatrix output;           // [n_embd] -> [n_vocab]; token_embd when tied
    bool tied_output = false;
    // Llama 3's RoPE scaling (rope_freqs.weight, one tensor for every layer):
    // pair i turns by angle θ_i / rope_freq_factors[i]. Empty when the file has none.
    std::vector<float> rope_freq_factors;  // [rope_dim / 2]
    size_t total_bytes = 0;        // bytes of every tensor in the file

    // Binds every tensor the architecture's forward pass needs, checking names, shapes
    // and that each type is one the CPU backend computes. Throws GgufError
    // naming the tensor on any mismatch.
    static ModelWeights bind(const gguf::GgufFile& file, const ModelConfig& config);
};

}  // namespace kvscope
