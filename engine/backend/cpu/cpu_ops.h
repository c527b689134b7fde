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
// freq_factors ([rope_dim / 2], Llama 3's rope_freqs; nullptr = none) divide
// each θ_i before its cos/sin, as ggml_rope_cache_init does.
void rope_angles(int32_t position, int32_t rope_dim, float freq_base, float* cos_out, float* sin_out,
                 const float* freq_factors = nullptr);

// Rotates one head's first rope_dim dimensions in place, in the given layout.
void rope_apply(float* head, int32_t rope_dim, RopeLayout layout, const float* cos_v, const float* sin_v);

// (SwiGLU is a per-ISA kernel: cpu_kernels().swiglu.)

// out[i] = gelu_tanh(gate[i]) · up[i] as ggml's CPU GeGLU computes it
// (ggml_vec_geglu_f32 with GGML_GELU_FP16): gate <= -10 gives 0, >= 10 gives
// gate · up, otherwise the GELU is looked up by gate rounded to f16 in a table
// of f16 values of 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))). out may be gate.
void geglu_tanh(const float* gate, const float* up, float* out, int64_t n);

}  // namespace kvscope::cpu
