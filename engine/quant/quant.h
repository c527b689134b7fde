#pragma once
// ggml's quantised formats, as every backend shares them (block layouts in
// ggml/src/ggml-common.h, reference code in ggml/src/ggml-quants.c): row
// sizes, dequantisation, and the activation quantisers of llama.cpp's CPU path
// (the activation vector is quantised to the weight type's "vec_dot type":
// Q4_0/Q5_0/Q8_0 -> Q8_0, Q4_1/Q5_1 -> Q8_1, K-quants -> Q8_K, F16 -> F16, BF16 -> BF16,
// F32 -> F32). The CPU backend's dot products on these are in
// backend/cpu/vec_dot.h.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/tensor_type.h"

namespace kvscope {

// Bytes of a row of n elements of type t; throws kvscope::Error if n is not a
// multiple of the type's block size.
size_t row_bytes(TensorType t, int64_t n);

// y[0..n) = dequantised row. n must be a multiple of the block size.
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K (throws otherwise).
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

}  // namespace kvscope
