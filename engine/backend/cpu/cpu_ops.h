#pragma once
// The elementwise and per-head operations of the llama forward pass on the
// CPU, written to round the way ggml's CPU backend does (see each comment),
// so that logits agree with llama.cpp within a small tolerance.
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace kvscope::cpu {

// y = x / sqrt(mean(x²) + eps) ⊙ weight. Squares are taken in float and summed
// in double, the scale computed in float, as ggml_compute_forward_rms_norm_f32.
void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps);

// cos/sin for one position: [rope_dim / 2] each. θ_i = p · base^(−2i/rope_dim),
// computed as ggml does by repeated multiplication in float (θ_{i+1} = θ_i · base^(−2/rope_dim)).
void rope_angles(int32_t position, int32_t rope_dim, float freq_base, float* cos_out, float* sin_out);

// Rotates one head's first rope_dim dimensions in place, in the given layout.
void rope_apply(float* head, int32_t rope_dim, RopeLayout layout, const float* cos_v, const float* sin_v);

// (SwiGLU is a per-ISA kernel: cpu_kernels().swiglu.)

}  // namespace kvscope::cpu
