#include "backend/cpu/cpu_ops.h"

#include <cmath>

#include "backend/cpu/ggml_order.h"

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
        *a = x0 * cos_v[i] - x1 * sin_v[i];
        *b = x0 * sin_v[i] + x1 * cos_v[i];
    }
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
    // ggml_vec_silu_f32 uses its vector exp for whole groups of 16 and expf for the rest.
    const int64_t vectorised = n & ~int64_t{15};
    for (int64_t i = 0; i < vectorised; ++i) out[i] = ggml_order::silu_v(gate[i]) * up[i];
    for (int64_t i = vectorised; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace kvscope::cpu
