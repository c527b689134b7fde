#pragma once
// The CPU backend's dot products on quantised weight rows, in llama.cpp's CPU
// order so that logits agree with it: each weight row is dotted block by block
// with an activation prepared by quantize_for_dot (quant/quant.h) for the same
// weight type. The kernels are those of the active SIMD level (cpu_kernels.h);
// every level gives the same bits.
#include <cstddef>
#include <cstdint>

#include "quant/quant.h"

namespace kvscope {

// Dot product of one weight row (n elements of `weight_type`) with an
// activation prepared by quantize_for_dot for the same weight type and n.
float vec_dot(TensorType weight_type, const void* weight_row, const QuantizedVector& x);

// Same, several weight rows at once: out[r] = row r · x, rows `row_stride` bytes apart.
void vec_dot_rows(TensorType weight_type, const uint8_t* first_row, size_t row_stride, int64_t n_rows,
                  const QuantizedVector& x, float* out);

// Same for a batch of activations (all prepared alike): out[t·out_stride + r] =
// row r · xs[t] for t < n_x, checked once for the batch.
void vec_dot_rows_batch(TensorType weight_type, const uint8_t* first_row, size_t row_stride, int64_t n_rows,
                        const QuantizedVector* xs, int n_x, float* out, size_t out_stride);

// The weight types these dot products take.
bool vec_dot_computes(TensorType weight_type);

}  // namespace kvscope
