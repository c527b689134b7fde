#include "model/model_config.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "gguf/gguf_file.h"

namespace kvscope {
namespace {

int32_t positive(const gguf::GgufFile& f, const std::string& key, uint32_t limit = 1u << 24) {
    const uint32_t v = f.get_u32(key);
    if (v == 0 || v > limit)
        throw gguf::GgufError("GGUF: key '" + key + "' = " + std::to_string(v) + " is outside 1.." + std::to_string(limit));
    return static_cast<int32_t>(v);
}

}  // namespace

ModelConfig ModelConfig::from_gguf(const gguf::GgufFile& f) {
    ModelConfig c;
    c.architecture = f.get_string("general.architecture");
    const ArchitectureTraits& arch = architecture_traits(c.architecture);
    c.rope_layout = arch.rope_layout;
    c.ffn_activation = arch.ffn_activation;
    c.qk_norm = arch.qk_norm;
    c.post_norms = arch.post_norms;
    c.qkv_bias = arch.qkv_bias;
    c.fused_gate_up = arch.fused_gate_up;
    c.scale_query = arch.scale_query;
    c.name = f.find_string("general.name").value_or("");
    const std::string a = c.architecture + ".";
    c.n_embd = positive(f, a + "embedding_length");
    c.n_layer = positive(f, a + "block_count", 4096);
    c.n_head = positive(f, a + "attention.head_count", 4096);
    c.n_head_kv = f.find_u32(a + "attention.head_count_kv") ? positive(f, a + "attention.head_count_kv", 4096) : c.n_head;
    c.n_ff = positive(f, a + "feed_forward_length");
    c.n_ctx_train = positive(f, a + "context_length", 1u << 30);
    if (c.n_head % c.n_head_kv != 0)
        throw gguf::GgufError("GGUF: " + a + "attention.head_count (" + std::to_string(c.n_head) +
                              ") is not a multiple of head_count_kv (" + std::to_string(c.n_head_kv) + ")");
    c.head_dim = f.find_u32(a + "attention.key_length") ? positive(f, a + "attention.key_length") : c.n_embd / c.n_head;
    if (f.find_u32(a + "attention.key_length") == std::nullopt && c.n_embd % c.n_head != 0)
        throw gguf::GgufError("GGUF: " + a + "embedding_length is not a multiple of attention.head_count");
    if (auto vlen = f.find_u32(a + "attention.value_length"); vlen && static_cast<int32_t>(*vlen) != c.head_dim)
        throw gguf::GgufError("GGUF: " + a + "attention.value_length differs from key_length (not supported)");
    if (c.head_dim % 16 != 0 || c.head_dim > 256)
        throw gguf::GgufError("GGUF: head size " + std::to_string(c.head_dim) +
                              " is not supported (KVScope needs a multiple of 16, at most 256)");
    c.rope_dim = f.find_u32(a + "rope.dimension_count") ? positive(f, a + "rope.dimension_count") : c.head_dim;
    if (c.rope_dim > c.head_dim || c.rope_dim % 2 != 0)
        throw gguf::GgufError("GGUF: " + a + "rope.dimension_count = " + std::to_string(c.rope_dim) +
                              " must be even and at most the head size " + std::to_string(c.head_dim));
    c.rope_freq_base = f.find_f32(a + "rope.freq_base").value_or(10000.0f);
    c.rms_eps = f.find_f32(a + "attention.layer_norm_rms_epsilon").value_or(1e-5f);
    if (!(c.rope_freq_base > 0.0f)) throw gguf::GgufError("GGUF: " + a + "rope.freq_base must be positive");
    if (!(c.rms_eps > 0.0f)) throw gguf::GgufError("GGUF: " + a + "attention.layer_norm_rms_epsilon must be positive");
    if (auto scaling = f.find_string(a + "rope.scaling.type"); scaling && *scaling != "none")
        throw gguf::GgufError("GGUF: " + a + "rope.scaling.type '" + *scaling + "' is not supported");
    c.attention_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    if (arch.scale_embeddings) c.embedding_scale = std::sqrt(static_cast<float>(c.n_embd));
    c.layer_is_local.assign(static_cast<size_t>(c.n_layer), 0);
    c.layer_rope_base.assign(static_cast<size_t>(c.n_layer), c.rope_freq_base);
    if (arch.local_pattern > 0) {
        c.native_window = positive(f, a + "attention.sliding_window", 1u << 30);
        for (int32_t l = 0; l < c.n_layer; ++l)
            if (arch.local_pattern == 1 || l % arch.local_pattern < arch.local_pattern - 1) {
                c.layer_is_local[static_cast<size_t>(l)] = 1;
                if (arch.local_rope_base > 0.0f) c.layer_rope_base[static_cast<size_t>(l)] = arch.local_rope_base;
            }
    }
    // The vocabulary size is the token list's length (llama.vocab_size is optional).
    const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
    if (tokens == nullptr) throw gguf::GgufError("GGUF: required key 'tokenizer.ggml.tokens' is missing");
    c.n_vocab = static_cast<int32_t>(tokens->array.size());
    if (c.n_vocab == 0) throw gguf::GgufError("GGUF: 'tokenizer.ggml.tokens' is empty");
    if (auto declared = f.find_u32(a + "vocab_size"); declared && static_cast<int32_t>(*declared) != c.n_vocab)
        throw gguf::GgufError("GGUF: " + a + "vocab_size = " + std::to_string(*declared) + " but tokenizer.ggml.tokens has " +
                              std::to_string(c.n_vocab) + " tokens");
    return c;
}

namespace {

// "0-4, 6-10, 12-16": the layers where pick(l) holds, as runs.
template <class Pick>
std::string layer_runs(int32_t n_layer, Pick pick) {
    std::string s;
    for (int32_t l = 0; l < n_layer;) {
        if (!pick(l)) {
            ++l;
            continue;
        }
        int32_t e = l;
        while (e + 1 < n_layer && pick(e + 1)) ++e;
        if (!s.empty()) s += ", ";
        s += std::to_string(l);
        if (e > l) {
            s += '-';
            s += std::to_string(e);
        }
        l = e + 1;
    }
    return s;
}

std::string base_text(float base) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(base));
    return buf;
}

}  // namespace

std::string ModelConfig::describe_attention_layers() const {
    int32_t n_local = 0;
    for (uint8_t local : layer_is_local) n_local += local;
    if (n_local == 0) return "all " + std::to_string(n_layer) + " global (RoPE base " + base_text(rope_freq_base) + ")";
    float local_base = rope_freq_base;
    for (int32_t l = 0; l < n_layer; ++l)
        if (layer_is_local[static_cast<size_t>(l)]) local_base = layer_rope_base[static_cast<size_t>(l)];
    if (n_local == n_layer)  // phi3: one window for every layer
        return "all " + std::to_string(n_layer) + " local (window " + std::to_string(native_window) + ", RoPE base " +
               base_text(local_base) + ")";
    std::string s = std::to_string(n_local);
    s += " local (window " + std::to_string(native_window);
    s += ", RoPE base " + base_text(local_base) + "): ";
    s += layer_runs(n_layer, [&](int32_t l) { return layer_is_local[static_cast<size_t>(l)] != 0; });
    s += "; " + std::to_string(n_layer - n_local);
    s += " global (RoPE base " + base_text(rope_freq_base) + "): ";
    s += layer_runs(n_layer, [&](int32_t l) { return layer_is_local[static_cast<size_t>(l)] == 0; });
    return s;
}

std::string ModelConfig::describe_block_extras() const {
    std::string s;
    auto add = [&s](const std::string& part) {
        if (!s.empty()) s += ", ";
        s += part;
    };
    if (qkv_bias) add("Q/K/V biases");
    if (fused_gate_up) add("gate and up in one ffn_up");
    if (qk_norm) add("q/k norms");
    if (post_norms) add("post-attention and post-FFN norms");
    if (ffn_activation == FfnActivation::GeluTanh) add("GeGLU (tanh GELU)");
    if (embedding_scale != 1.0f) add("embeddings x sqrt(" + std::to_string(n_embd) + ")");
    return s;
}

}  // namespace kvscope
