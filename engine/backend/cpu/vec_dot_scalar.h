#pragma once
// Portable kernels (internal) for CPUs without AVX2. They reproduce the AVX2
// kernels' lanes and summation order exactly (not ggml's generic C order), so
// results do not depend on the CPU; tests require the two to be bit-identical.
//
// Every row kernel dots `n` weights (a whole number of blocks) with an
// activation already quantised to the weight type's vec_dot type.
#include <cstdint>

namespace kvscope::quant::scalar {

float dot_q4_0_q8_0(const void* w, const void* x, int64_t n);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t n);
float dot_q5_0_q8_0(const void* w, const void* x, int64_t n);
float dot_q5_1_q8_1(const void* w, const void* x, int64_t n);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t n);
float dot_q4_K_q8_K(const void* w, const void* x, int64_t n);
float dot_q5_K_q8_K(const void* w, const void* x, int64_t n);
float dot_q6_K_q8_K(const void* w, const void* x, int64_t n);

float dot_f32(const float* a, const float* b, int64_t n);
float dot_f16(const uint16_t* a, const uint16_t* b, int64_t n);
float dot_bf16(const uint16_t* a, const uint16_t* b, int64_t n);

}  // namespace kvscope::quant::scalar
