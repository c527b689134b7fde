#pragma once
// RoPE as the CPU computes it (backend/cpu/cpu_ops.cpp): the angle of pair i
// at position p is p · base^(-2i/d), built by repeated multiplication as
// ggml does; "normal" rotates adjacent pairs (x[2i], x[2i+1]), "neox" the
// halves (x[i], x[i + d/2]). The device's powf/cosf/sinf may differ from the
// host's libm in the last bit.
#include <cmath>

#include "kernels/twin/hd.h"

namespace kvscope::twin {

// cos and sin of pair i's angle at `position` (rope_dim values in all, i < rope_dim / 2).
KVS_HD void rope_angle(int position, int i, int rope_dim, float freq_base, float& c, float& s) {
    const float theta_scale = powf(freq_base, -2.0f / static_cast<float>(rope_dim));
    float theta = static_cast<float>(position);
    for (int k = 0; k < i; ++k) theta *= theta_scale;
    c = cosf(theta);
    s = sinf(theta);
}

// Rotates pair i of one head (head_dim floats) by (c, s).
KVS_HD void rope_rotate_pair(float* head, int i, int rope_dim, bool neox, float c, float s) {
    float* a = neox ? head + i : head + 2 * i;
    float* b = neox ? head + i + rope_dim / 2 : head + 2 * i + 1;
    const float x0 = *a, x1 = *b;
    // One explicit fma each, as the CPU (and llama.cpp's build) rounds; no
    // compiler contraction is left to decide (nvcc contracts, g++ here does not).
    *a = fmaf(x0, c, -(x1 * s));
    *b = fmaf(x0, s, x1 * c);
}

}  // namespace kvscope::twin
