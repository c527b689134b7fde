#pragma once
// Attention arithmetic in the exact operation order of llama.cpp's CPU
// backend (ggml-cpu, AVX-512 build, flash attention off, f16 KV cache), so
// that our logits agree with llama.cpp's bit for bit where the orders match:
//
//  - decode (one query token): Q·K and P·V go through ggml_vec_dot_f16:
//    4 accumulators × 16 lanes over the first (n & ~63) elements, FMA per
//    lane, reduced (acc0+acc2, acc1+acc3, then +, then a 16-lane tree), the
//    remaining elements summed in double;
//  - prefill (several query tokens): both products go through llamafile's
//    tinyBLAS: one 16-lane FMA chain over all elements, then the 16-lane tree;
//  - softmax: exp by ggml_v_expf per 16 elements (a polynomial, not expf),
//    sums of 16-lane trees in double, then scaled by 1/sum;
//  - the key count is padded to a multiple of 32 (llama.cpp's KV padding);
//    padded keys weigh exactly 0 and change no sum.
// The lane structure is emulated with plain loops and std::fma, which gives
// the same bits on any CPU (and vectorises where AVX-512 exists).
#include <cstdint>

namespace kvscope::ggml_order {

inline constexpr int kLanes = 16;       // floats per AVX-512 register
inline constexpr int kKvPadding = 32;   // llama.cpp pads n_kv to this (no flash attention)

inline int padded_keys(int n) { return (n + kKvPadding - 1) / kKvPadding * kKvPadding; }

// _mm512_reduce_add_ps as GCC implements it: halves, quarters, pairs.
float reduce16(const float* lanes);

// ggml_v_expf for one lane.
float expf_v(float x);
// ggml_v_silu for one lane: x / (1 + exp(-x)).
float silu_v(float x);

// q · k over n elements in ggml_vec_dot_f16's order: q holds f16 values as floats, k is f16.
float dot_f16_decode(const float* q, const uint16_t* k, int n);

// The prefill (tinyBLAS) forms, on K and V rows already converted to float (a
// batch reuses every row for many queries, so it converts the cache once per
// layer). q · k over n elements, n % 16 == 0:
float dot_prefill_f32(const float* q, const float* k, int n);
// out[d] = Σ_t p[t] · v_rows[t][d]; scratch: at least 16 × head_dim floats.
void weighted_sum_v_prefill_f32(const float* p, const float* const* v_rows, int n_keys, int head_dim, float* scratch,
                                float* out);

// In-place softmax of `n` scores (n a multiple of 16; masked entries -inf).
void softmax(float* x, int n);

// out[d] = Σ_t p[t] · v_t[d] for d < head_dim, t < n_keys (the padded count),
// in ggml_vec_dot_f16's order, where v_t = v_rows[t] (f16, head_dim values, a
// multiple of 16 and at most 256) and p is already rounded to f16 (as values).
// scratch: at least 64 × head_dim floats.
void weighted_sum_v_decode(const float* p, const uint16_t* const* v_rows, int n_keys, int head_dim, float* scratch,
                           float* out);

}  // namespace kvscope::ggml_order
