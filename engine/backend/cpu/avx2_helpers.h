#pragma once
// Small AVX2 building blocks shared by the kernels (internal; include only
// inside a KVSCOPE_TARGET_AVX2 region). Names follow ggml's helpers
// in ggml-cpu-quants.c so the kernels can be read side by side with it.
#include <immintrin.h>

#include <cstdint>

namespace kvscope::quant::avx2 {

// Sum of 8 floats in ggml's order (hsum_float_8).
inline float hsum_float_8(__m256 x) {
    __m128 res = _mm256_extractf128_ps(x, 1);
    res = _mm_add_ps(res, _mm256_castps256_ps128(x));
    res = _mm_add_ps(res, _mm_movehl_ps(res, res));
    res = _mm_add_ss(res, _mm_movehdup_ps(res));
    return _mm_cvtss_f32(res);
}

// 16 bytes of packed nibbles -> 32 bytes in [0, 15]: low nibbles first, then high.
inline __m256i bytes_from_nibbles_32(const uint8_t* p) {
    const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i bytes = _mm256_inserti128_si256(_mm256_castsi128_si256(tmp), _mm_srli_epi16(tmp, 4), 1);
    return _mm256_and_si256(_mm256_set1_epi8(0xF), bytes);
}

// Unsigned bytes ax times signed bytes sy, each group of 4 products summed to
// int32, as 8 floats. No int16 saturation can occur for our inputs (|products
// pair| <= 2 * 128 * 127), so the VNNI and the maddubs forms give equal sums.
inline __m256 mul_sum_us8_pairs_float(__m256i ax, __m256i sy) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy));
#else
    const __m256i dot = _mm256_maddubs_epi16(ax, sy);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), dot));
#endif
}

// Signed x signed: move x's sign onto y so maddubs can take |x| as unsigned.
inline __m256 mul_sum_i8_pairs_float(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    return mul_sum_us8_pairs_float(ax, sy);
}

}  // namespace kvscope::quant::avx2
