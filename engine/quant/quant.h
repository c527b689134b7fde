#pragma once
// Dequantisation and dot products on ggml's quantised blocks (block layouts in
// ggml/src/ggml-common.h, reference code in ggml/src/ggml-quants.c).
//
// Dot products follow llama.cpp's CPU path so that logits agree with it: the
// activation vector is first quantised to the weight type's "vec_dot type"
// (Q4_0/Q8_0 -> Q8_0, Q4_1 -> Q8_1, K-quants -> Q8_K, F16 -> F16, BF16 -> BF16,
// F32 -> F32), once per matrix-vector product, then each weight row is dotted
// with it block by block. AVX2 paths (when compiled with -mavx2/-march=native)
// give the same results as the scalar ones up to float summation order.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/tensor_type.h"

namespace kvscope {

// Bytes of a row of n elements of type t; throws kvscope::Error if n is not a
// multiple of the type's block size.
size_t row_bytes(TensorType t, int64_t n);

// y[0..n) = dequantised row. n must be a multiple of the block size.
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K (throws otherwise).
void dequantize_row(TensorType t, const void* src, float* y, int64_t n);

// The type an activation vector is converted to before dotting with a row of `weight_type`.
TensorType vec_dot_type(TensorType weight_type);

// An activation vector converted for dot products with rows of one weight type.
struct QuantizedVector {
    TensorType type = TensorType::F32;  // == vec_dot_type(weight type)
    int64_t n = 0;                      // elements
    std::vector<uint8_t> bytes;         // row_bytes(type, n) bytes of blocks
};

// Converts x[0..n) for dot products with rows of `weight_type` (reuses out's storage).
void quantize_for_dot(TensorType weight_type, const float* x, int64_t n, QuantizedVector& out);

// Dot product of one weight row (n elements of `weight_type`) with an
// activation prepared by quantize_for_dot for the same weight type and n.
float vec_dot(TensorType weight_type, const void* weight_row, const QuantizedVector& x);

// Same, several weight rows at once: out[r] = row r · x, rows `row_stride` bytes apart.
void vec_dot_rows(TensorType weight_type, const uint8_t* first_row, size_t row_stride, int64_t n_rows,
                  const QuantizedVector& x, float* out);

// Plain float helpers used by attention and norms.
float dot_f32(const float* a, const float* b, int64_t n);
// a (f16 bits) · b (f16 bits), accumulated in float.
float dot_f16(const uint16_t* a, const uint16_t* b, int64_t n);
// y += alpha * x
void axpy_f32(float alpha, const float* x, float* y, int64_t n);

}  // namespace kvscope
