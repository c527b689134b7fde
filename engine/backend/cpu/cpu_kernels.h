#pragma once
// The CPU backend's inner kernels for one SIMD level (util/simd_level.h):
// quantised and float row dot products (vec_dot.h) and the attention and
// SwiGLU arithmetic in llama.cpp's order (ggml_order.h). Every level's table
// gives the same bits; callers take the active one once per operation.
#include <cstddef>
#include <cstdint>

#include "util/simd_level.h"

namespace kvscope {

struct CpuKernels {
    SimdLevel level;

    // One weight row · an activation quantised for its type (n elements, whole blocks).
    using RowDot = float (*)(const void* w, const void* x, int64_t n);
    // out[r] = row r · x for n_rows rows `stride` bytes apart (nullptr: loop over the RowDot).
    using RowsDot = void (*)(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out);
    // out[c·out_stride + r] = row r · xs[c] for n_x activations (nullptr: loop over the RowsDot).
    using TileDot = void (*)(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x,
                             int64_t n, float* out, size_t out_stride);
    RowDot q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K;
    RowsDot rows_q4_0, rows_q4_1, rows_q5_0, rows_q5_1, rows_q8_0;
    TileDot tile_q4_0, tile_q4_1, tile_q5_0, tile_q5_1, tile_q8_0;
    float (*f32)(const float* a, const float* b, int64_t n);
    float (*f16)(const uint16_t* a, const uint16_t* b, int64_t n);
    float (*bf16)(const uint16_t* a, const uint16_t* b, int64_t n);

    // ggml_order.h
    float (*dot_f16_decode)(const float* q, const uint16_t* k, int n);
    float (*dot_prefill_f32)(const float* q, const float* k, int n);
    void (*scores_prefill_f32)(const float* q, const float* kt, int n_keys, int n, float scale, float* scores);
    void (*weighted_sum_v_prefill_f32)(const float* p, const float* const* v_rows, int n_keys, int head_dim,
                                       float* scratch, float* out);
    void (*weighted_sum_v_prefill_blocked)(const float* p, const float* vt, int n_keys, int head_dim, float* out);
    void (*softmax)(float* x, int n);
    void (*round_to_f16_values)(float* x, int64_t n);
    void (*weighted_sum_v_decode)(const float* p, const uint16_t* const* v_rows, int n_keys, int head_dim,
                                  float* scratch, float* out);
    void (*scores_f16_decode_pages)(const float* q, int n_kv_heads, int n_q, const uint16_t* const* k_pages,
                                    const uint16_t* lane_mask, int b0, int b1, int n, float scale, float* scores,
                                    size_t scores_stride);
    void (*weighted_sum_v_decode_pages)(const float* p, size_t p_stride, int n_q, const uint16_t* const* v_pages,
                                        const uint16_t* lane_mask, size_t v_offset, int n_slots, int d0, int d1,
                                        float* scratch, float* out, size_t out_stride);
    void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
};

// The kernels of the active level (active_simd_level()).
const CpuKernels& cpu_kernels();
// The kernels of one level; the level must run here (simd_level_runs_here).
const CpuKernels& cpu_kernels(SimdLevel level);

}  // namespace kvscope
