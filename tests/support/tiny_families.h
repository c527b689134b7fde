#pragma once
// Tiny random-weight models of the families no small real GGUF stands for here
// (qwen2's Q/K/V biases and NeoX RoPE, qwen3's q/k norms, Llama 3's RoPE
// frequency factors, phi3's fused projections and sliding window on every layer), in
// one place for the tool that writes them for llama.cpp (kvscope-model-tool
// tiny) and the test that holds KVScope to llama.cpp's logits on them
// (tests/engine/tiny_family_agreement_test.cpp). Changing anything here
// changes the files' bytes: the test then says so, and the fixtures in
// tests/data/reference-tiny/ must be made again (see their NOTES.md).
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/tiny_model.h"

namespace kvscope::test {

// Llama 3's rope_freqs for head size `head_dim`: ggml's divisor per rotated
// pair, by the formula of Meta's apply_scaling (factor 8, low/high frequency
// factors 1 and 4). The original context is 64 instead of 8,192 so that the
// short texts of a test see every kind of pair: unscaled (wavelength < 16),
// smoothly scaled, and divided by 8 (wavelength > 64).
inline std::vector<float> llama3_rope_freq_factors(uint32_t head_dim, float base) {
    constexpr double kFactor = 8.0, kLowFreqFactor = 1.0, kHighFreqFactor = 4.0, kOldContext = 64.0;
    const double low_freq_wavelen = kOldContext / kLowFreqFactor, high_freq_wavelen = kOldContext / kHighFreqFactor;
    std::vector<float> factors;
    for (uint32_t i = 0; i < head_dim; i += 2) {
        const double freq = 1.0 / std::pow(static_cast<double>(base), static_cast<double>(i) / head_dim);
        const double wavelen = 2.0 * M_PI / freq;
        if (wavelen < high_freq_wavelen) {
            factors.push_back(1.0f);
        } else if (wavelen > low_freq_wavelen) {
            factors.push_back(static_cast<float>(kFactor));
        } else {
            const double smooth = (kOldContext / wavelen - kLowFreqFactor) / (kHighFreqFactor - kLowFreqFactor);
            factors.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / kFactor + smooth)));
        }
    }
    return factors;
}

inline constexpr uint32_t kTinyPhi3Window = 24;

// The families' names: "<family>-<matrix type>".
inline std::vector<std::string> tiny_family_names() {
    return {"qwen2-f32", "qwen2-f16", "qwen2-q8_0", "qwen3-f32", "qwen3-f16", "qwen3-q8_0",
            "llama3-f32", "llama3-f16", "llama3-q8_0", "phi3-f32", "phi3-f16", "phi3-q8_0"};
}

// Options of a named tiny model; throws std::invalid_argument for an unknown name.
// 64 wide, 2 layers, 4 query heads over 2 KV heads of 16, FFN 128, context 256.
inline TinyModelOptions tiny_family_options(const std::string& name) {
    const size_t dash = name.find('-');
    if (dash == std::string::npos) throw std::invalid_argument("unknown tiny model '" + name + "'");
    const std::string family = name.substr(0, dash), type = name.substr(dash + 1);
    TinyModelOptions o;
    o.n_embd = 64;
    o.n_layer = 2;
    o.n_head = 4;
    o.n_head_kv = 2;
    o.key_length = 16;
    o.n_ff = 128;
    o.n_ctx = 256;
    if (type == "f32") o.matrix_type = TensorType::F32;
    else if (type == "f16") o.matrix_type = TensorType::F16;
    else if (type == "q8_0") o.matrix_type = TensorType::Q8_0;
    else throw std::invalid_argument("unknown tiny model '" + name + "' (types: f32, f16, q8_0)");
    if (family == "qwen2") {
        o.architecture = "qwen2";
        o.name = "tiny-qwen2";
        o.tokenizer_pre = "qwen2";
        o.rope_freq_base = 1000000.0f;
        o.rms_eps = 1e-6f;
        o.qkv_bias = true;
        o.seed = 20261207;
    } else if (family == "qwen3") {
        o.architecture = "qwen3";
        o.name = "tiny-qwen3";
        o.tokenizer_pre = "qwen2";
        o.rope_freq_base = 1000000.0f;
        o.rms_eps = 1e-6f;
        o.qk_norm = true;
        o.seed = 20261210;
    } else if (family == "llama3") {
        o.architecture = "llama";
        o.name = "tiny-llama3";
        o.tokenizer_pre = "llama-bpe";
        o.rope_freq_base = 500000.0f;
        o.rope_freq_factors = llama3_rope_freq_factors(16, o.rope_freq_base);
        o.seed = 20261208;
    } else if (family == "phi3") {
        o.architecture = "phi3";
        o.name = "tiny-p3";  // llama.cpp marks <|end|> and friends in models named "phi3": this vocabulary has none
        o.tokenizer_pre = "qwen2";  // a BPE pattern llama.cpp loads with this 39-token vocabulary
        o.fused_qkv = true;
        o.fused_gate_up = true;
        // Every layer sees the last 24 positions: both prompts run past it.
        o.sliding_window = kTinyPhi3Window;
        o.seed = 20261209;
    } else {
        throw std::invalid_argument("unknown tiny model '" + name + "' (families: qwen2, qwen3, llama3, phi3)");
    }
    return o;
}

// FNV-1a (64 bits) of a file's bytes: the fixtures record it, so a generator
// that drifts from the files llama.cpp ran is caught.
inline uint64_t fnv1a64(const std::vector<uint8_t>& bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
    return h;
}

}  // namespace kvscope::test
