#pragma once
// AVX2/FMA kernels (internal), present only when KVSCOPE_X86_SIMD (compiled for AVX2+FMA+F16C, called only on such a CPU). The
// quantised ones follow llama.cpp's AVX2 kernels operation for operation, so
// each row's result is bit-identical to ggml_vec_dot_*; the *_rows variants
// dot several rows per pass over the activation (sharing its loads and
// overlapping the per-row FMA chains) but keep every row's own order, so they
// equal the single-row kernels exactly.
#include <cstddef>
#include <cstdint>

#include "quant/simd.h"

#if KVSCOPE_X86_SIMD
namespace kvscope::quant::avx2 {

float dot_q4_0_q8_0(const void* w, const void* x, int64_t n);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t n);
float dot_q5_0_q8_0(const void* w, const void* x, int64_t n);
float dot_q5_1_q8_1(const void* w, const void* x, int64_t n);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t n);
float dot_q4_K_q8_K(const void* w, const void* x, int64_t n);
float dot_q5_K_q8_K(const void* w, const void* x, int64_t n);
float dot_q6_K_q8_K(const void* w, const void* x, int64_t n);

// out[r] = row r . x for n_rows rows `stride` bytes apart.
void dot_rows_q4_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out);
void dot_rows_q4_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out);
void dot_rows_q5_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out);
void dot_rows_q5_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out);
void dot_rows_q8_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out);

// out[c·out_stride + r] = row r . xs[c] for n_x activations (a batch's rows × tokens).
void dot_tile_q4_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride);
void dot_tile_q4_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride);
void dot_tile_q5_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride);
void dot_tile_q5_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride);
void dot_tile_q8_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride);

float dot_f32(const float* a, const float* b, int64_t n);
float dot_f16(const uint16_t* a, const uint16_t* b, int64_t n);
float dot_bf16(const uint16_t* a, const uint16_t* b, int64_t n);

}  // namespace kvscope::quant::avx2
#endif
