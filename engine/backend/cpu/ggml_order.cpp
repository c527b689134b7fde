#include "backend/cpu/ggml_order.h"

#include <cmath>
#include <cstring>

#include "util/fp16.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace kvscope::ggml_order {
namespace {

// dst[0..16) = src[0..16) converted from f16 (exact).
inline void f16x16_to_f32(const uint16_t* src, float* dst) {
#if defined(__F16C__)
    // (Two 8-wide conversions: GCC 12's _mm512_cvtph_ps trips -Wmaybe-uninitialized.)
    _mm256_storeu_ps(dst, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src))));
    _mm256_storeu_ps(dst + 8, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 8))));
#else
    for (int l = 0; l < kLanes; ++l) dst[l] = fp16_to_f32(src[l]);
#endif
}

// x · 2^n for integral n (what _mm512_scalef_ps does), rounding once.
inline float scale_by_power_of_two(float x, int n) {
    auto pow2 = [](int e) { return bits_to_f32(static_cast<uint32_t>(e + 127) << 23); };  // normal range only
    if (n >= -126 && n <= 127) return x * pow2(n);
    if (n > 127) return (x * pow2(127)) * pow2(n - 127);
    return (x * pow2(n + 100)) * pow2(-100);  // first product exact, second rounds once
}

}  // namespace

float reduce16(const float* a) {
    float t3[8], t6[4];
    for (int i = 0; i < 8; ++i) t3[i] = a[i + 8] + a[i];
    for (int i = 0; i < 4; ++i) t6[i] = t3[i + 4] + t3[i];
    const float t8_0 = t6[0] + t6[2];
    const float t8_1 = t6[1] + t6[3];
    return t8_0 + t8_1;
}

float expf_v(float x) {
    const float r = 0x1.8p23f;
    const float z = std::fma(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                      std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                             u, std::fma(0x1.ffffecp-1f, b, 1.0f));
    if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    return scale_by_power_of_two(j, static_cast<int>(n));  // _mm512_scalef_ps(j, n); n is integral
}

float silu_v(float x) {
    // ggml_v_silu: neg = 0 - x; e = expf_v(neg); x / (1 + e)
    const float e = expf_v(0.0f - x);
    return x / (1.0f + e);
}

float dot_f16_decode(const float* x, const uint16_t* y, int n) {
    const int np = n & ~63;
    float sum[4][kLanes] = {};
    float yf[kLanes];
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; ++j) {
            const int e = i + j * kLanes;
            f16x16_to_f32(y + e, yf);
            for (int l = 0; l < kLanes; ++l) sum[j][l] = std::fma(x[e + l], yf[l], sum[j][l]);
        }
    for (int l = 0; l < kLanes; ++l) {
        sum[0][l] += sum[2][l];
        sum[1][l] += sum[3][l];
    }
    for (int l = 0; l < kLanes; ++l) sum[0][l] += sum[1][l];
    double sumf = reduce16(sum[0]);
    for (int i = np; i < n; ++i) sumf += static_cast<double>(x[i] * fp16_to_f32(y[i]));
    return static_cast<float>(sumf);
}

float dot_prefill_f32(const float* x, const float* y, int n) {
    float acc[kLanes] = {};
    for (int i = 0; i < n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] = std::fma(x[i + l], y[i + l], acc[l]);
    return reduce16(acc);
}

void weighted_sum_v_prefill_f32(const float* p, const float* const* v_rows, int n_keys, int head_dim, float* scratch,
                                float* out) {
    const size_t hd = static_cast<size_t>(head_dim);
    std::memset(scratch, 0, sizeof(float) * kLanes * hd);
    for (int t = 0; t < n_keys; ++t) {
        if (p[t] == 0.0f) continue;  // fma(0, v, acc) == acc
        float* acc = scratch + static_cast<size_t>(t % kLanes) * hd;
        const float* v = v_rows[t];
        for (int d = 0; d < head_dim; ++d) acc[d] = std::fma(p[t], v[d], acc[d]);
    }
    for (int d = 0; d < head_dim; ++d) {
        float lanes[kLanes];
        for (int l = 0; l < kLanes; ++l) lanes[l] = scratch[static_cast<size_t>(l) * hd + static_cast<size_t>(d)];
        out[d] = reduce16(lanes);
    }
}

void softmax(float* x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;  // ggml_vec_max_f32 (no NaN here)
    double sum = 0.0;
    for (int i = 0; i < n; i += kLanes) {
        float val[kLanes];
        for (int l = 0; l < kLanes; ++l) val[l] = x[i + l] = expf_v(x[i + l] - max);
        sum += static_cast<double>(reduce16(val));
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int i = 0; i < n; ++i) x[i] *= inv;
}

void weighted_sum_v_decode(const float* p, const uint16_t* const* v_rows, int n_keys, int head_dim, float* scratch,
                           float* out) {
    // scratch[t mod 64][d]: ggml_vec_dot_f16's lane accumulators (4 registers
    // × 16 lanes) for output dimension d; the same FMAs as llama.cpp, looped
    // over d innermost so they vectorise.
    const int np = n_keys & ~63;
    const int used_groups = np < 64 ? np : 64;
    const size_t hd = static_cast<size_t>(head_dim);
    float vf[256];  // one V row as floats (head_dim <= 256)
    for (int t = 0; t < np; ++t) {
        float* acc = scratch + static_cast<size_t>(t % 64) * hd;
        if (p[t] == 0.0f) {  // fma(0, v, acc) == acc: masked and padded keys
            if (t < 64) std::memset(acc, 0, sizeof(float) * hd);
            continue;
        }
        for (int d = 0; d < head_dim; d += kLanes) f16x16_to_f32(v_rows[t] + d, vf + d);
        if (t < 64) {
            for (int d = 0; d < head_dim; ++d) acc[d] = p[t] * vf[d];  // == fma(p, v, 0)
        } else {
            for (int d = 0; d < head_dim; ++d) acc[d] = std::fma(p[t], vf[d], acc[d]);
        }
    }
    auto acc_at = [&](int group, int d) {
        return group < used_groups ? scratch[static_cast<size_t>(group) * hd + static_cast<size_t>(d)] : 0.0f;
    };
    // Reduce the lane accumulators, then add the leftover keys in double, in
    // key order for each d.
    double sumf[256];
    for (int d = 0; d < head_dim; ++d) {
        float lanes[kLanes];
        for (int l = 0; l < kLanes; ++l) {
            const float s0 = acc_at(l, d) + acc_at(32 + l, d);
            const float s1 = acc_at(16 + l, d) + acc_at(48 + l, d);
            lanes[l] = s0 + s1;
        }
        sumf[d] = reduce16(lanes);
    }
    for (int t = np; t < n_keys; ++t) {
        if (p[t] == 0.0f) continue;  // adds exactly 0
        for (int d = 0; d < head_dim; d += kLanes) f16x16_to_f32(v_rows[t] + d, vf + d);
        for (int d = 0; d < head_dim; ++d) sumf[d] += static_cast<double>(p[t] * vf[d]);
    }
    for (int d = 0; d < head_dim; ++d) out[d] = static_cast<float>(sumf[d]);
}

}  // namespace kvscope::ggml_order
