#pragma once
// Activation quantisers (internal): float rows -> Q8_0 / Q8_1 / Q8_K blocks,
// bit-identical to what llama.cpp's x86 build produces (quantize_row_q8_0 and
// quantize_row_q8_1 AVX2 paths: scale 127/amax, round half to even; q8_K:
// quantize_row_q8_K_ref). The scalar versions use the same arithmetic as the
// AVX2 ones, so both give the same bytes. n must be a multiple of the block size.
#include <cstdint>

#include "quant/block_types.h"
#include "quant/simd.h"

namespace kvscope::quant {

namespace scalar {
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n);
}  // namespace scalar

#if KVSCOPE_X86_SIMD
// Compiled for AVX2+F16C; call only where active_simd_level() allows.
namespace avx2 {
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n);
void convert_row_f16(const float* x, uint16_t* y, int64_t n);
}  // namespace avx2
#endif

// Dispatching versions (AVX2 where the active SIMD level has it; the same bytes either way).
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n);
// Reference algorithm only (ggml has no x86 SIMD version either).
void quantize_row_q8_K(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace kvscope::quant

namespace kvscope::quant {
// Float -> f16 / bf16 bits, round to nearest even (F16C where the active SIMD level has it).
void convert_row_f16(const float* x, uint16_t* y, int64_t n);
void convert_row_bf16(const float* x, uint16_t* y, int64_t n);
}  // namespace kvscope::quant
