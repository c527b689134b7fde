#pragma once
// The attention softmax in fp32: max-subtracted exponentials over the scores
// a query head gives its keys, normalised by their sum.
#include <cmath>

#include "kernels/twin/hd.h"

namespace kvscope::twin {

KVS_HD void softmax(float* x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; ++i) m = fmaxf(m, x[i]);
    float sum = 0.0f;
    for (int i = 0; i < n; ++i) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < n; ++i) x[i] *= inv;
}

// RMSNorm of one row: y = x / sqrt(mean(x²) + eps) · w.
KVS_HD void rms_norm_row(const float* x, const float* w, float* y, int n, float eps) {
    float sum = 0.0f;
    for (int i = 0; i < n; ++i) sum += x[i] * x[i];
    const float scale = 1.0f / sqrtf(sum / static_cast<float>(n) + eps);
    for (int i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
}

// SwiGLU: silu(gate) · up.
KVS_HD float swiglu(float gate, float up) { return gate / (1.0f + expf(-gate)) * up; }

}  // namespace kvscope::twin
