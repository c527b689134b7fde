// AVX2 dot products on plain float / f16 / bf16 vectors, shaped like
// ggml's AVX2 GGML_F32/GGML_F16 loops: 4 accumulators of 8 lanes, 32 elements
// per step, then ggml's reduction order; leftovers are added one by one.
#include "backend/cpu/vec_dot_avx2.h"

#if KVSCOPE_X86_SIMD
#include <immintrin.h>

#include <cmath>

#include "util/fp16.h"

KVSCOPE_TARGET_AVX2
namespace kvscope::quant::avx2 {
namespace {

// GGML_F32x8_REDUCE for 4 accumulators.
inline float reduce4(__m256 s0, __m256 s1, __m256 s2, __m256 s3) {
    s0 = _mm256_add_ps(s0, s2);
    s1 = _mm256_add_ps(s1, s3);
    s0 = _mm256_add_ps(s0, s1);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    return _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
}

inline __m256 load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256 load_bf16(const uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
    const int64_t np = n & ~int64_t{31};
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t i = 0; i < np; i += 32)
        for (int j = 0; j < 4; ++j)
            s[j] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * j), _mm256_loadu_ps(b + i + 8 * j), s[j]);
    float sum = reduce4(s[0], s[1], s[2], s[3]);
    for (int64_t i = np; i < n; ++i) sum = __builtin_fmaf(a[i], b[i], sum);  // ggml's C tail, fused by GCC
    return sum;
}

float dot_f16(const uint16_t* a, const uint16_t* b, int64_t n) {
    const int64_t np = n & ~int64_t{31};
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t i = 0; i < np; i += 32)
        for (int j = 0; j < 4; ++j)
            s[j] = _mm256_fmadd_ps(load_f16(a + i + 8 * j), load_f16(b + i + 8 * j), s[j]);
    double sum = reduce4(s[0], s[1], s[2], s[3]);
    for (int64_t i = np; i < n; ++i) sum += static_cast<double>(fp16_to_f32(a[i]) * fp16_to_f32(b[i]));
    return static_cast<float>(sum);
}

// ggml's AVX2 bf16 dot writes a multiply and an add, which GCC fuses (llama.cpp
// builds with contraction on; we build with it off and fuse explicitly), and
// reduces as (c1+c3)+(c2+c4).
float dot_bf16(const uint16_t* a, const uint16_t* b, int64_t n) {
    int64_t i = 0;
    __m256 c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps();
    for (; i + 32 <= n; i += 32) {
        c1 = _mm256_fmadd_ps(load_bf16(a + i), load_bf16(b + i), c1);
        c2 = _mm256_fmadd_ps(load_bf16(a + i + 8), load_bf16(b + i + 8), c2);
        c3 = _mm256_fmadd_ps(load_bf16(a + i + 16), load_bf16(b + i + 16), c3);
        c4 = _mm256_fmadd_ps(load_bf16(a + i + 24), load_bf16(b + i + 24), c4);
    }
    c1 = _mm256_add_ps(_mm256_add_ps(c1, c3), _mm256_add_ps(c2, c4));
    __m128 g = _mm_add_ps(_mm256_extractf128_ps(c1, 1), _mm256_castps256_ps128(c1));
    g = _mm_add_ps(g, _mm_movehl_ps(g, g));
    g = _mm_add_ss(g, _mm_movehdup_ps(g));
    double sum = _mm_cvtss_f32(g);
    for (; i < n; ++i) sum += static_cast<double>(bf16_to_f32(a[i]) * bf16_to_f32(b[i]));
    return static_cast<float>(sum);
}

}  // namespace kvscope::quant::avx2
KVSCOPE_TARGET_END
#endif
