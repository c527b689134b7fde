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
//  - SwiGLU: ggml_v_silu (the same polynomial exp) on whole groups of 16;
//  - the key count is padded to a multiple of 32 (llama.cpp's KV padding);
//    padded keys weigh exactly 0 and change no sum.
// The lane structure is emulated with plain loops and fused multiply-adds,
// which gives the same bits on any CPU. The kernels are compiled once per
// instruction set (ggml_order_impl.inc); callers take them from cpu_kernels()
// (backend/cpu/cpu_kernels.h), which picks the copy for the active SIMD level.
#include <cstddef>
#include <cstdint>

namespace kvscope::ggml_order {

inline constexpr int kLanes = 16;       // floats per AVX-512 register
inline constexpr int kKvPadding = 32;   // llama.cpp pads n_kv to this (no flash attention)

inline int padded_keys(int n) { return (n + kKvPadding - 1) / kKvPadding * kKvPadding; }

// The kernels each instruction-set copy provides.
#define KVSCOPE_GGML_ORDER_KERNELS(ns)                                                                            \
    namespace ns {                                                                                                 \
    /* q · k over n elements in ggml_vec_dot_f16's order: q holds f16 values as floats, k is f16. */              \
    float dot_f16_decode(const float* q, const uint16_t* k, int n);                                               \
    /* The prefill (tinyBLAS) forms, on K and V rows already converted to float. q · k, n % 16 == 0: */          \
    float dot_prefill_f32(const float* q, const float* k, int n);                                                 \
    /* dot_prefill_f32 of one query with many keys at once, keys held in blocks of 16 transposed: element d of  \
       key j is kt[((j / 16)·n + d)·16 + j % 16]. scores[j] = dot_prefill_f32(q, key j, n) · scale for j < n_keys \
       rounded up to 16 (a partial last block is computed whole). */                                              \
    void scores_prefill_f32(const float* q, const float* kt, int n_keys, int n, float scale, float* scores);    \
    /* out[d] = Σ_t p[t] · v_rows[t][d]; scratch: at least 16 × head_dim floats. */                              \
    void weighted_sum_v_prefill_f32(const float* p, const float* const* v_rows, int n_keys, int head_dim,         \
                                    float* scratch, float* out);                                                  \
    /* The same over V rows held in blocks of 16 keys transposed (the layout of scores_prefill_f32's kt), for    \
       the keys j < n_keys rounded up to 16: p must hold that many (0 past the keys that count). */               \
    void weighted_sum_v_prefill_blocked(const float* p, const float* vt, int n_keys, int head_dim, float* out);  \
    /* x[i] = x[i] rounded to the nearest f16 value (ties to even), as llama.cpp converts Q and the            \
       probabilities to meet an f16 cache; overflow gives ±inf. */                                                \
    void round_to_f16_values(float* x, int64_t n);                                                                \
    /* In-place softmax of n scores (n a multiple of 16; masked entries -inf). */                                 \
    void softmax(float* x, int n);                                                                                \
    /* out[d] = Σ_t p[t] · v_t[d] in ggml_vec_dot_f16's order; v_t = v_rows[t] (f16, head_dim a multiple of 16  \
       and at most 256), p already rounded to f16 (as values). scratch: at least 64 × head_dim floats. */        \
    void weighted_sum_v_decode(const float* p, const uint16_t* const* v_rows, int n_keys, int head_dim,           \
                               float* scratch, float* out);                                                       \
    /* dot_f16_decode over K held in pages of 16 slots transposed (f16): element i of KV head g of slot     \
       16b + s at k_pages[b][(g·n + i)·16 + s]; q holds [n_kv_heads][n_q][n] (n_q query heads per KV head). For  \
       the pages b in [b0, b1) whose lane_mask[b] is not 0 (the others are not read), scores[(g·n_q + qi)·       \
       scores_stride + 16b + s] = dot_f16_decode(that query, that slot's key of head g, n) · scale, for all 16    \
       slots (a slot that does not count gets whatever its bytes give). n <= 256. */                             \
    void scores_f16_decode_pages(const float* q, int n_kv_heads, int n_q, const uint16_t* const* k_pages,        \
                                 const uint16_t* lane_mask, int b0, int b1, int n, float scale, float* scores,   \
                                 size_t scores_stride);                                                            \
    /* weighted_sum_v_decode's sums for n_q query heads sharing one KV head, over V held in pages of 16 slots   \
       transposed (f16): value d of slot 16b + i at v_pages[b][v_offset + d·16 + i]; p[qi·p_stride + t] is slot  \
       t's probability (t < n_slots, a multiple of 16). Bit i of lane_mask[b] says whether slot 16b + i counts:  \
       the others weigh nothing whatever their bytes hold (a page whose mask is 0 is not read and may be        \
       nullptr). Only the output dimensions [d0, d1), into out[qi·out_stride + d];                              \
       scratch: min(n_q, 4) × 64 × (d1 − d0) floats. */                                                         \
    void weighted_sum_v_decode_pages(const float* p, size_t p_stride, int n_q, const uint16_t* const* v_pages,   \
                                     const uint16_t* lane_mask, size_t v_offset, int n_slots, int d0, int d1,    \
                                     float* scratch, float* out, size_t out_stride);                              \
    /* out[i] = silu(gate[i]) · up[i], silu(z) = z / (1 + e^−z), ggml_vec_silu_f32's exp. */                      \
    void swiglu(const float* gate, const float* up, float* out, int64_t n);                                       \
    }

KVSCOPE_GGML_ORDER_KERNELS(scalar)
KVSCOPE_GGML_ORDER_KERNELS(avx2)
KVSCOPE_GGML_ORDER_KERNELS(avx512)

#undef KVSCOPE_GGML_ORDER_KERNELS

}  // namespace kvscope::ggml_order
