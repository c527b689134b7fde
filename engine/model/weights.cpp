#include "model/weights.h"

#include <cmath>

#include "gguf/gguf_file.h"
#include "model/model_config.h"
#include "quant/quant.h"

namespace kvscope {
namespace {

std::string dims_text(const std::vector<uint64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

const gguf::TensorInfo& expect_shape(const gguf::GgufFile& f, const std::string& name, std::vector<uint64_t> want) {
    const gguf::TensorInfo& t = f.tensor(name);
    if (t.dims != want)
        throw gguf::GgufError("GGUF: tensor '" + name + "' has shape " + dims_text(t.dims) + " but the metadata implies " +
                              dims_text(want));
    return t;
}

WeightMatrix matrix(const gguf::GgufFile& f, const std::string& name, int64_t cols, int64_t rows) {
    const gguf::TensorInfo& t =
        expect_shape(f, name, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)});
    // Any type the reader can size binds; whether a backend computes it is the
    // backend's to say (Backend::refusal), so one that cannot is refused there.
    WeightMatrix m;
    m.name = name;
    m.type = t.type;
    m.data = t.data;
    m.cols = cols;
    m.rows = rows;
    m.row_stride = row_bytes(t.type, cols);
    return m;
}

// Rows [first, first + count) of a bound matrix, as a matrix of their own.
WeightMatrix rows_of(const WeightMatrix& m, int64_t first, int64_t count, const char* which) {
    WeightMatrix part = m;
    part.name = m.name + which;
    part.data = m.row(first);
    part.rows = count;
    return part;
}

std::vector<float> vector_f32(const gguf::GgufFile& f, const std::string& name, int64_t n) {
    const gguf::TensorInfo& t = expect_shape(f, name, {static_cast<uint64_t>(n)});
    if (t.type != TensorType::F32 && t.type != TensorType::F16 && t.type != TensorType::BF16)
        throw gguf::GgufError("GGUF: tensor '" + name + "' has type " + tensor_type_name(t.type) +
                              " (vectors such as norms and biases must be F32, F16 or BF16)");
    std::vector<float> out(static_cast<size_t>(n));
    dequantize_row(t.type, t.data, out.data(), n);
    return out;
}

}  // namespace

ModelWeights ModelWeights::bind(const gguf::GgufFile& f, const ModelConfig& c) {
    ModelWeights w;
    w.token_embd = matrix(f, "token_embd.weight", c.n_embd, c.n_vocab);
    w.output_norm = vector_f32(f, "output_norm.weight", c.n_embd);
    w.tied_output = f.find_tensor("output.weight") == nullptr;
    w.output = w.tied_output ? w.token_embd : matrix(f, "output.weight", c.n_embd, c.n_vocab);
    for (const char* longrope : {"rope_factors_long.weight", "rope_factors_short.weight"})
        if (f.find_tensor(longrope) != nullptr)
            throw gguf::GgufError(std::string("GGUF: tensor '") + longrope +
                                  "' (LongRoPE, Phi-3's 128k-context scaling) is not supported");
    if (f.find_tensor("rope_freqs.weight") != nullptr) {
        w.rope_freq_factors = vector_f32(f, "rope_freqs.weight", c.rope_dim / 2);
        for (float factor : w.rope_freq_factors)
            if (!(factor > 0.0f) || !std::isfinite(factor))
                throw gguf::GgufError("GGUF: tensor 'rope_freqs.weight' holds " + std::to_string(factor) +
                                      " (RoPE frequency factors must be positive and finite)");
    }
    w.layers.resize(static_cast<size_t>(c.n_layer));
    for (int32_t l = 0; l < c.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        LayerWeights& L = w.layers[static_cast<size_t>(l)];
        L.attn_norm = vector_f32(f, p + "attn_norm.weight", c.n_embd);
        if (f.find_tensor(p + "attn_qkv.weight") != nullptr) {
            // One fused projection (phi3): Q's rows, then K's, then V's; each
            // output row is its own dot product, so row views compute the same.
            const WeightMatrix qkv = matrix(f, p + "attn_qkv.weight", c.n_embd, c.q_dim() + 2 * c.kv_dim());
            L.wq = rows_of(qkv, 0, c.q_dim(), " (Q rows)");
            L.wk = rows_of(qkv, c.q_dim(), c.kv_dim(), " (K rows)");
            L.wv = rows_of(qkv, c.q_dim() + c.kv_dim(), c.kv_dim(), " (V rows)");
        } else {
            L.wq = matrix(f, p + "attn_q.weight", c.n_embd, c.q_dim());
            L.wk = matrix(f, p + "attn_k.weight", c.n_embd, c.kv_dim());
            L.wv = matrix(f, p + "attn_v.weight", c.n_embd, c.kv_dim());
        }
        L.wo = matrix(f, p + "attn_output.weight", c.q_dim(), c.n_embd);
        L.ffn_norm = vector_f32(f, p + "ffn_norm.weight", c.n_embd);
        if (c.fused_gate_up) {  // phi3: ffn_up.weight is [gate rows; up rows]
            const WeightMatrix gate_up = matrix(f, p + "ffn_up.weight", c.n_embd, 2 * static_cast<int64_t>(c.n_ff));
            L.w_gate = rows_of(gate_up, 0, c.n_ff, " (gate rows)");
            L.w_up = rows_of(gate_up, c.n_ff, c.n_ff, " (up rows)");
        } else {
            L.w_gate = matrix(f, p + "ffn_gate.weight", c.n_embd, c.n_ff);
            L.w_up = matrix(f, p + "ffn_up.weight", c.n_embd, c.n_ff);
        }
        L.w_down = matrix(f, p + "ffn_down.weight", c.n_ff, c.n_embd);
        if (c.qk_norm) {
            L.attn_q_norm = vector_f32(f, p + "attn_q_norm.weight", c.head_dim);
            L.attn_k_norm = vector_f32(f, p + "attn_k_norm.weight", c.head_dim);
        }
        if (c.qkv_bias) {
            L.bq = vector_f32(f, p + "attn_q.bias", c.q_dim());
            L.bk = vector_f32(f, p + "attn_k.bias", c.kv_dim());
            L.bv = vector_f32(f, p + "attn_v.bias", c.kv_dim());
        }
        if (c.post_norms) {
            L.attn_post_norm = vector_f32(f, p + "post_attention_norm.weight", c.n_embd);
            L.ffn_post_norm = vector_f32(f, p + "post_ffw_norm.weight", c.n_embd);
        }
    }
    for (const auto& t : f.tensors()) w.total_bytes += t.n_bytes;
    return w;
}

}  // namespace kvscope
