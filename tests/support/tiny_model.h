#pragma once
// A tiny but complete llama-architecture GGUF built in memory, for tests that
// need a whole model without the 98 MB SmolLM2 file.
//
//   TinyModelOptions o;                 // 32-wide, 2 layers, 4 heads, 2 KV heads (GQA), head size 16, n_ff 48
//   o.matrix_type = TensorType::Q8_0;   // F32 (default), F16 or Q8_0
//   o.n_ff = 64;                        // (Q8_0 needs every matrix width to be a multiple of 32)
//   TinyModel tm = build_tiny_model(o); // bytes + the weight values they hold
//   LoadedTinyModel m = load_tiny_model(o);   // the bytes, kept alive, and Model::from_gguf(...)
//
// Breakage knobs: drop_keys, drop_tensors, tensor_dims, tensor_type_ids,
// architecture, inconsistent head counts, tensor_vocab (token_embd/output rows
// different from the token list).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "quant/tensor_type.h"
#include "support/gguf_writer.h"
#include "util/fp16.h"

namespace kvscope::test {

struct TinyModelOptions {
    std::string architecture = "llama";  // general.architecture; also the prefix of the hyperparameter keys
    std::string name = "tiny-llama";
    uint32_t n_embd = 32;
    uint32_t n_layer = 2;
    uint32_t n_head = 4;
    uint32_t n_head_kv = 2;
    uint32_t n_ff = 48;
    uint32_t n_ctx = 64;
    // <arch>.attention.key_length (the head size), written when set. 16 by
    // default: 4 heads of 16 on a 32-wide model, so Q/attention output (64)
    // are wider than the residual stream, as the key allows.
    std::optional<uint32_t> key_length = 16;
    float rope_freq_base = 10000.0f;
    float rms_eps = 1e-5f;
    TensorType matrix_type = TensorType::F32;  // every 2-D weight; norms stay F32
    bool separate_output = true;                // false: no output.weight (tied to token_embd)
    std::string tokenizer_pre = "gpt2";  // tokenizer.ggml.pre
    // Family extras. qkv_bias: blk.N.attn_q/k/v.bias (qwen2), uniform in
    // ±bias_scale from a generator of their own (so the other weights do not
    // depend on them). rope_freq_factors: rope_freqs.weight (Llama 3), written as given.
    bool qkv_bias = false;
    float bias_scale = 0.5f;
    // phi3: one attn_qkv.weight (Q, K, V rows) and one ffn_up.weight (gate
    // rows, then up rows); sliding_window: <arch>.attention.sliding_window.
    bool fused_qkv = false;
    bool fused_gate_up = false;
    // qwen3: blk.N.attn_q_norm/attn_k_norm.weight ([head size], 1 ± norm_jitter),
    // drawn after each layer's other tensors.
    bool qk_norm = false;
    std::optional<uint32_t> sliding_window;
    std::vector<float> rope_freq_factors;
    uint64_t seed = 20240611;
    float norm_jitter = 0.25f;  // norm weights are 1 ± this

    // Breakage.
    std::set<std::string> drop_keys;                        // metadata keys not written
    std::set<std::string> drop_tensors;                     // tensors not written
    std::map<std::string, std::vector<uint64_t>> tensor_dims;  // written with these dims (zero data)
    std::map<std::string, uint32_t> tensor_type_ids;        // written with this type id (zero data)
    std::optional<uint32_t> tensor_vocab;  // rows of token_embd/output (default: the token count)
    std::optional<uint32_t> vocab_size_key;  // <arch>.vocab_size, written when set
};

// The vocabulary: 26 lower-case letters, 10 digits, "Ġ" (byte-level space),
// the merge result "ab", and "<|endoftext|>" (control, BOS and EOS).
inline std::vector<std::string> tiny_vocab() {
    std::vector<std::string> v;
    for (char c = 'a'; c <= 'z'; ++c) v.emplace_back(1, c);
    for (char c = '0'; c <= '9'; ++c) v.emplace_back(1, c);
    v.emplace_back("\xC4\xA0");  // U+0120 'Ġ', the byte-level form of ' '
    v.emplace_back("ab");
    v.emplace_back("<|endoftext|>");
    return v;
}
inline constexpr int32_t kTinyEndOfText = 38;  // id of "<|endoftext|>" in tiny_vocab()

// Head size the options imply (0 when n_head is 0).
inline uint32_t tiny_head_dim(const TinyModelOptions& o) {
    if (o.key_length) return *o.key_length;
    return o.n_head == 0 ? 0 : o.n_embd / o.n_head;
}

// IEEE half bits -> float, written out here (independent of the engine's table).
inline float tiny_half_to_float(uint16_t h) {
    const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    float v;
    if (exp == 0)
        v = std::ldexp(static_cast<float>(mant), -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
    return sign ? -v : v;
}

struct TinyModel {
    std::vector<uint8_t> bytes;
    // The weight values the file holds, per tensor, row-major as [rows][cols]
    // (for F16 / Q8_0: the dequantised values). Only tensors written with
    // their normal shape and the chosen type.
    std::map<std::string, std::vector<float>> values;
    TinyModelOptions options;
};

namespace tiny_detail {

// splitmix64: a fixed, portable sequence (std:: distributions differ between libraries).
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [-1, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0; }

private:
    uint64_t s_;
};

// Encodes `v` ([rows][cols]) as `type`; replaces v by the values the encoding holds.
inline std::vector<uint8_t> encode(TensorType type, std::vector<float>& v, uint64_t cols) {
    std::vector<uint8_t> out;
    if (type == TensorType::F32) {
        out.resize(v.size() * 4);
        std::memcpy(out.data(), v.data(), out.size());
    } else if (type == TensorType::F16) {
        out.resize(v.size() * 2);
        for (size_t i = 0; i < v.size(); ++i) {
            const uint16_t h = f32_to_fp16(v[i]);
            std::memcpy(out.data() + 2 * i, &h, 2);
            v[i] = tiny_half_to_float(h);
        }
    } else if (type == TensorType::Q8_0) {
        // ggml's quantize_row_q8_0_ref: d = amax / 127 (stored as f16), q = round(x / d).
        if (cols % 32 != 0) throw std::logic_error("tiny model: Q8_0 needs rows that are a multiple of 32");
        for (size_t b = 0; b < v.size(); b += 32) {
            float amax = 0;
            for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[b + j]));
            const float d = amax / 127.0f;
            const float id = d != 0.0f ? 1.0f / d : 0.0f;
            const uint16_t dh = f32_to_fp16(d);
            const uint8_t* dp = reinterpret_cast<const uint8_t*>(&dh);
            out.insert(out.end(), dp, dp + 2);
            const float dd = tiny_half_to_float(dh);
            for (size_t j = 0; j < 32; ++j) {
                const int8_t q = static_cast<int8_t>(std::lround(v[b + j] * id));
                out.push_back(static_cast<uint8_t>(q));
                v[b + j] = dd * static_cast<float>(q);
            }
        }
    } else {
        throw std::logic_error("tiny model: matrix type must be F32, F16 or Q8_0");
    }
    return out;
}

}  // namespace tiny_detail

inline TinyModel build_tiny_model(const TinyModelOptions& o) {
    TinyModel tm;
    tm.options = o;
    GgufWriter w;
    const std::string a = o.architecture + ".";
    const auto key = [&](const std::string& k) { return o.drop_keys.count(k) == 0; };

    const std::vector<std::string> vocab = tiny_vocab();
    const uint32_t hd = tiny_head_dim(o);
    if (key("general.architecture")) w.add_string("general.architecture", o.architecture);
    if (key("general.name")) w.add_string("general.name", o.name);
    if (key(a + "context_length")) w.add_u32(a + "context_length", o.n_ctx);
    if (key(a + "embedding_length")) w.add_u32(a + "embedding_length", o.n_embd);
    if (key(a + "block_count")) w.add_u32(a + "block_count", o.n_layer);
    if (key(a + "feed_forward_length")) w.add_u32(a + "feed_forward_length", o.n_ff);
    if (key(a + "attention.head_count")) w.add_u32(a + "attention.head_count", o.n_head);
    if (key(a + "attention.head_count_kv")) w.add_u32(a + "attention.head_count_kv", o.n_head_kv);
    if (o.key_length && key(a + "attention.key_length")) w.add_u32(a + "attention.key_length", *o.key_length);
    if (key(a + "rope.dimension_count")) w.add_u32(a + "rope.dimension_count", hd);
    if (o.vocab_size_key) w.add_u32(a + "vocab_size", *o.vocab_size_key);
    if (key(a + "rope.freq_base")) w.add_f32(a + "rope.freq_base", o.rope_freq_base);
    if (o.sliding_window) w.add_u32(a + "attention.sliding_window", *o.sliding_window);
    if (key(a + "attention.layer_norm_rms_epsilon")) w.add_f32(a + "attention.layer_norm_rms_epsilon", o.rms_eps);
    if (key("tokenizer.ggml.model")) w.add_string("tokenizer.ggml.model", "gpt2");
    if (key("tokenizer.ggml.pre")) w.add_string("tokenizer.ggml.pre", o.tokenizer_pre);
    if (key("tokenizer.ggml.tokens")) w.add_string_array("tokenizer.ggml.tokens", vocab);
    if (key("tokenizer.ggml.token_type")) {
        std::vector<int32_t> types(vocab.size(), 1);
        types[kTinyEndOfText] = 3;
        w.add_i32_array("tokenizer.ggml.token_type", types);
    }
    if (key("tokenizer.ggml.merges")) w.add_string_array("tokenizer.ggml.merges", {"a b"});
    if (key("tokenizer.ggml.bos_token_id")) w.add_u32("tokenizer.ggml.bos_token_id", kTinyEndOfText);
    if (key("tokenizer.ggml.eos_token_id")) w.add_u32("tokenizer.ggml.eos_token_id", kTinyEndOfText);

    // Every tensor draws from the generator in a fixed order, whether or not it
    // is written, so a knob on one tensor leaves the others' values unchanged.
    tiny_detail::Rng rng(o.seed);
    const uint64_t n_vocab = o.tensor_vocab.value_or(static_cast<uint32_t>(vocab.size()));
    const auto add = [&](const std::string& name, uint64_t cols, uint64_t rows, bool is_norm) {
        std::vector<float> v(static_cast<size_t>(cols * rows));
        // Matrices: uniform with variance 1/cols, so W·x keeps x's scale. Embeddings: unit scale.
        const double scale = name == "token_embd.weight" ? 1.0 : std::sqrt(3.0 / static_cast<double>(cols));
        for (float& x : v)
            x = is_norm ? static_cast<float>(1.0 + o.norm_jitter * rng.uniform()) : static_cast<float>(scale * rng.uniform());
        if (o.drop_tensors.count(name) || (name == "output.weight" && !o.separate_output)) return;
        const std::vector<uint64_t> dims = is_norm ? std::vector<uint64_t>{cols} : std::vector<uint64_t>{cols, rows};
        if (auto it = o.tensor_dims.find(name); it != o.tensor_dims.end()) {
            const uint32_t type_id = static_cast<uint32_t>(is_norm ? TensorType::F32 : o.matrix_type);
            w.add_tensor(name, it->second, static_cast<TensorType>(type_id));
            return;
        }
        if (auto it = o.tensor_type_ids.find(name); it != o.tensor_type_ids.end()) {
            const TensorTypeInfo* info = tensor_type_info(it->second);
            if (info == nullptr) throw std::logic_error("tiny model: unknown type id");
            w.add_tensor_raw(name, dims, it->second,
                             std::vector<uint8_t>(GgufWriter::tensor_bytes(dims, static_cast<TensorType>(it->second)), 0));
            return;
        }
        const TensorType type = is_norm ? TensorType::F32 : o.matrix_type;
        std::vector<uint8_t> bytes = tiny_detail::encode(type, v, cols);
        w.add_tensor(name, dims, type, std::move(bytes));
        tm.values[name] = std::move(v);
    };

    // A 1-D F32 tensor (a bias) uniform in [-bias_scale, bias_scale).
    tiny_detail::Rng bias_rng(o.seed ^ 0xb1a5b1a5b1a5b1a5ull);
    const auto add_vector = [&](const std::string& name, uint64_t n) {
        std::vector<float> v(static_cast<size_t>(n));
        for (float& x : v) x = static_cast<float>(o.bias_scale * bias_rng.uniform());
        if (o.drop_tensors.count(name)) return;
        std::vector<uint8_t> bytes(v.size() * 4);
        std::memcpy(bytes.data(), v.data(), bytes.size());
        w.add_tensor(name, {n}, TensorType::F32, std::move(bytes));
        tm.values[name] = std::move(v);
    };

    const uint64_t E = o.n_embd, F = o.n_ff, Q = uint64_t{o.n_head} * hd, KV = uint64_t{o.n_head_kv} * hd;
    add("token_embd.weight", E, n_vocab, false);
    add("output_norm.weight", E, 1, true);
    add("output.weight", E, n_vocab, false);  // drawn even when tied (not written then), as above
    for (uint32_t l = 0; l < o.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        add(p + "attn_norm.weight", E, 1, true);
        if (o.fused_qkv) {
            add(p + "attn_qkv.weight", E, Q + 2 * KV, false);
        } else {
            add(p + "attn_q.weight", E, Q, false);
            add(p + "attn_k.weight", E, KV, false);
            add(p + "attn_v.weight", E, KV, false);
        }
        add(p + "attn_output.weight", Q, E, false);
        add(p + "ffn_norm.weight", E, 1, true);
        if (o.fused_gate_up) {
            add(p + "ffn_up.weight", E, 2 * F, false);
        } else {
            add(p + "ffn_gate.weight", E, F, false);
            add(p + "ffn_up.weight", E, F, false);
        }
        add(p + "ffn_down.weight", F, E, false);
        if (o.qk_norm) {
            add(p + "attn_q_norm.weight", hd, 1, true);
            add(p + "attn_k_norm.weight", hd, 1, true);
        }
        if (o.qkv_bias) {
            add_vector(p + "attn_q.bias", Q);
            add_vector(p + "attn_k.bias", KV);
            add_vector(p + "attn_v.bias", KV);
        }
    }
    if (!o.rope_freq_factors.empty()) {
        std::vector<uint8_t> bytes(o.rope_freq_factors.size() * 4);
        std::memcpy(bytes.data(), o.rope_freq_factors.data(), bytes.size());
        w.add_tensor("rope_freqs.weight", {o.rope_freq_factors.size()}, TensorType::F32, std::move(bytes));
        tm.values["rope_freqs.weight"] = o.rope_freq_factors;
    }
    tm.bytes = w.build();
    return tm;
}

// A parsed and loaded tiny model; owns the bytes the GgufFile points into.
struct LoadedTinyModel {
    std::shared_ptr<const TinyModel> source;  // declared first: destroyed after `model`
    std::unique_ptr<Model> model;

    const Model& operator*() const { return *model; }
    const Model* operator->() const { return model.get(); }
    const std::vector<float>& values(const std::string& tensor) const { return source->values.at(tensor); }
};

// Throws what Model::from_gguf throws.
inline LoadedTinyModel load_tiny_model(const TinyModelOptions& o = {}) {
    LoadedTinyModel m;
    auto tm = std::make_shared<TinyModel>(build_tiny_model(o));
    m.source = tm;
    m.model = Model::from_gguf(gguf::GgufFile::parse(tm->bytes.data(), tm->bytes.size(), "<tiny model>"));
    return m;
}

}  // namespace kvscope::test
