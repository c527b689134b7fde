#include "backend/cpu/cpu_ops.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "util/fp16.h"


namespace kvscope::cpu {

void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);  // float square, double sum (ggml)
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
}

void rope_angles(int32_t position, int32_t rope_dim, float freq_base, float* cos_out, float* sin_out,
                 const float* freq_factors) {
    const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(rope_dim));
    float theta = static_cast<float>(position);
    for (int32_t i = 0; i < rope_dim / 2; ++i) {
        const float angle = freq_factors != nullptr ? theta / freq_factors[i] : theta;
        cos_out[i] = std::cos(angle);
        sin_out[i] = std::sin(angle);
        theta *= theta_scale;
    }
}

void rope_apply(float* head, int32_t rope_dim, RopeLayout layout, const float* cos_v, const float* sin_v) {
    const int32_t half = rope_dim / 2;
    for (int32_t i = 0; i < half; ++i) {
        float* a = layout == RopeLayout::Normal ? head + 2 * i : head + i;
        float* b = layout == RopeLayout::Normal ? head + 2 * i + 1 : head + i + half;
        const float x0 = *a, x1 = *b;
        // ggml's rope as GCC contracts it in llama.cpp's build (checked in the
        // disassembly): x0·cos − (x1·sin) and x0·sin + (x1·cos), each one FMA.
        *a = std::fma(x0, cos_v[i], -(x1 * sin_v[i]));
        *b = std::fma(x0, sin_v[i], x1 * cos_v[i]);
    }
}

namespace {

// ggml_gelu_f32 for every f16 value, stored as f16 (ggml_table_gelu_f16).
// GCC contracts ggml's 1 + A·x·x into one fused multiply-add; written out here
// (this project builds with -ffp-contract=off), the table equals the one in
// llama.cpp 4227c9b's libggml-cpu in all 65,536 entries (without the fma, one
// entry, x = -1.999, differs by one f16 step).
const uint16_t* gelu_f16_table() {
    static const std::unique_ptr<uint16_t[]> table = [] {
        constexpr float kCoefA = 0.044715f, kSqrt2OverPi = 0.79788456080286535587989211986876f;
        auto t = std::make_unique<uint16_t[]>(1 << 16);
        for (uint32_t h = 0; h < (1u << 16); ++h) {
            const float x = fp16_to_f32(static_cast<uint16_t>(h));
            t[h] = f32_to_fp16(0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * std::fma(kCoefA * x, x, 1.0f))));
        }
        return t;
    }();
    return table.get();
}

}  // namespace

void geglu_tanh(const float* gate, const float* up, float* out, int64_t n) {
    const uint16_t* table = gelu_f16_table();
    for (int64_t i = 0; i < n; ++i) {
        const float x = gate[i];
        if (x <= -10.0f)
            out[i] = 0.0f;
        else if (x >= 10.0f)
            out[i] = x * up[i];
        else
            out[i] = fp16_to_f32(table[f32_to_fp16(x)]) * up[i];
    }
}

}  // namespace kvscope::cpu
