#include "quant/quantize_activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/fp16.h"
#include "util/simd_level.h"

namespace kvscope::quant {
namespace {

#if KVSCOPE_X86_SIMD
bool use_avx2() { return active_simd_level() >= SimdLevel::Avx2; }
#endif

// ggml's nearest_int: adding 1.5 * 2^23 leaves round(f) (half to even, in the
// default rounding mode) in the low mantissa bits. Valid for |f| < 2^22.
inline int nearest_int(float f) {
    const float v = f + 12582912.f;
    int32_t i;
    std::memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

// nearest_int(a * b) with the product rounded to float first, as llama.cpp's
// x86 build does (checked against libggml-cpu: a fused multiply-add changes
// ~1 in 300 Q8_K blocks by one step where the product lands on a half).
// The project builds with -ffp-contract=off so the compiler cannot fuse it.
inline int nearest_int_of_product(float a, float b) {
    const float product = a * b;
    return nearest_int(product);
}

// Shared by Q8_0 and Q8_1: max |x| over one block of 32, the f32 scale d and
// the integer values, rounded exactly as llama.cpp's AVX2 path does
// (multiply by 127/amax, not by 1/d; round half to even).
inline float quantize_block32(const float* x, int8_t* qs) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    for (int j = 0; j < 32; ++j) qs[j] = static_cast<int8_t>(nearest_int(x[j] * id));
    return d;
}

}  // namespace

namespace scalar {

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK8_0; ++i) {
        y[i].d = f32_to_fp16(quantize_block32(x + i * kQK8_0, y[i].qs));
    }
}

void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK8_1; ++i) {
        const float d = quantize_block32(x + i * kQK8_1, y[i].qs);
        int sum = 0;
        for (int j = 0; j < kQK8_1; ++j) sum += y[i].qs[j];
        y[i].d = f32_to_fp16(d);
        y[i].s = f32_to_fp16(d * static_cast<float>(sum));
    }
}

}  // namespace scalar

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
#if KVSCOPE_X86_SIMD
    if (use_avx2()) return avx2::quantize_row_q8_0(x, y, n);
#endif
    scalar::quantize_row_q8_0(x, y, n);
}

void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n) {
#if KVSCOPE_X86_SIMD
    if (use_avx2()) return avx2::quantize_row_q8_1(x, y, n);
#endif
    scalar::quantize_row_q8_1(x, y, n);
}

// quantize_row_q8_K_ref: the scale comes from the signed element of largest
// magnitude (first one on ties) and maps it to -127; d is kept as a float.
void quantize_row_q8_K(const float* x, BlockQ8_K* y, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
        float max = 0.0f;
        float amax = 0.0f;
        for (int j = 0; j < kQK_K; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            std::memset(y[i].qs, 0, sizeof y[i].qs);
            std::memset(y[i].bsums, 0, sizeof y[i].bsums);  // ggml leaves them stale; zero is what they'd sum to
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int_of_product(iscale, x[j])));
        for (int j = 0; j < kQK_K / 16; ++j) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += y[i].qs[j * 16 + l];
            y[i].bsums[j] = static_cast<int16_t>(sum);
        }
        y[i].d = 1 / iscale;
    }
}

}  // namespace kvscope::quant

namespace kvscope::quant {

void convert_row_f16(const float* x, uint16_t* y, int64_t n) {
#if KVSCOPE_X86_SIMD
    if (use_avx2()) return avx2::convert_row_f16(x, y, n);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void convert_row_bf16(const float* x, uint16_t* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

}  // namespace kvscope::quant
