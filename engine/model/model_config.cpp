#include "model/model_config.h"

#include <set>

#include "gguf/gguf_file.h"

namespace kvscope {
namespace {

// Architectures whose forward pass is the llama one (RMSNorm, RoPE, GQA,
// SwiGLU, no biases) and the RoPE layout llama.cpp uses for each.
RopeLayout rope_layout_for(const std::string& arch) {
    if (arch == "llama") return RopeLayout::Normal;
    throw gguf::GgufError("GGUF: architecture '" + arch + "' is not supported (KVScope runs: llama)");
}

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
    c.rope_layout = rope_layout_for(c.architecture);
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

}  // namespace kvscope
