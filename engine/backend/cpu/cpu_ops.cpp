#include "backend/cpu/cpu_ops.h"

#include <cmath>


namespace kvscope::cpu {

void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);  // float square, double sum (ggml)
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
}

void rope_angles(int32_t position, int32_t rope_dim, float freq_base, float* cos_out, float* sin_out) {
    const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(rope_dim));
    float theta = static_cast<float>(position);
    for (int32_t i = 0; i < rope_dim / 2; ++i) {
        cos_out[i] = std::cos(theta);
        sin_out[i] = std::sin(theta);
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

}  // namespace kvscope::cpu
