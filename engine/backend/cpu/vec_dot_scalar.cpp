// Portable dot-product kernels that give the AVX2 kernels' results bit for bit
// (vec_dot_avx2.cpp, float_ops_avx2.cpp), so a result never depends on the CPU.
//
// They emulate the AVX2 registers: 8 float lanes per accumulator, updated
// with a fused multiply-add per lane (std::fma: exact on every CPU), and the
// same horizontal sums at the end. The integer parts (maddubs/madd pairs) are
// exact whatever the order, so each lane's integer is summed plainly: lane m
// of a 32-byte block holds bytes 4m..4m+3.
#include "backend/cpu/vec_dot_scalar.h"

#include <cmath>
#include <cstring>

#include "quant/block_types.h"
#include "util/fp16.h"

namespace kvscope::quant::scalar {
namespace {

constexpr int kLanes = 8;  // floats in an AVX2 register

// hsum_float_8: r_i = x[i+4] + x[i], then (r0 + r2) + (r1 + r3).
float hsum_float_8(const float* x) {
    float r[4];
    for (int i = 0; i < 4; ++i) r[i] = x[i + 4] + x[i];
    return (r[0] + r[2]) + (r[1] + r[3]);
}

// acc[m] = fma(d, lanes[m], acc[m]) for the 8 lanes (_mm256_fmadd_ps(set1(d), cvtepi32_ps(lanes), acc)).
void fma_lanes(float d, const int32_t* lanes, float* acc) {
    for (int m = 0; m < kLanes; ++m) acc[m] = std::fma(d, static_cast<float>(lanes[m]), acc[m]);
}

// Nibble j of a 32-element Q4 block as bytes_from_nibbles_32 lays it out: low nibbles first, then high.
inline int nibble(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 0x0F : qs[j - 16] >> 4; }

// The 8 lane sums of a 32-element block: lane m = Σ w[4m+k] · x[4m+k], k < 4.
template <class WeightAt>
void block_lanes(WeightAt w, const int8_t* x, int32_t* lanes) {
    for (int m = 0; m < kLanes; ++m) {
        int32_t s = 0;
        for (int k = 0; k < 4; ++k) s += w(4 * m + k) * x[4 * m + k];
        lanes[m] = s;
    }
}

// The 8 six-bit scales (out[0..7]) and mins (out[8..15]) of a Q4_K/Q5_K block.
void unpack_scales_mins(const uint8_t* packed, uint8_t* out) {
    for (int j = 0; j < 8; ++j) scale_min_k4(j, packed, out[j], out[8 + j]);
}

// mins_times_bsums: the bsums summed in pairs (one per 32-element sub-block),
// times the mins, as 4 int32 lanes (madd of 8 int16 pairs).
void mins_times_bsums(const uint8_t* mins, const BlockQ8_K& y, int32_t* prod) {
    int32_t q8s[8];
    for (int k = 0; k < 8; ++k) q8s[k] = y.bsums[2 * k] + y.bsums[2 * k + 1];
    for (int k = 0; k < 4; ++k) prod[k] = mins[2 * k] * q8s[2 * k] + mins[2 * k + 1] * q8s[2 * k + 1];
}

// Lane sums of a Q4_K/Q5_K super-block: for each of the 4 chunks of 64,
// sub-block 2j (low nibbles, with fifth bit 2j) and 2j+1 (high nibbles, bit 2j+1).
void k4_k5_lanes(const uint8_t* qs, const uint8_t* qh, const uint8_t* scales, const int8_t* q8, int32_t* sumi) {
    for (int m = 0; m < kLanes; ++m) sumi[m] = 0;
    for (int j = 0; j < kQK_K / 64; ++j, qs += 32, q8 += 64) {
        for (int m = 0; m < kLanes; ++m) {
            int32_t lo = 0, hi = 0;
            for (int k = 0; k < 4; ++k) {
                const int b = 4 * m + k;
                const int bit_lo = qh ? ((qh[b] >> (2 * j)) & 1) << 4 : 0;
                const int bit_hi = qh ? ((qh[b] >> (2 * j + 1)) & 1) << 4 : 0;
                lo += ((qs[b] & 0xF) + bit_lo) * q8[b];
                hi += ((qs[b] >> 4) + bit_hi) * q8[32 + b];
            }
            sumi[m] += scales[2 * j] * lo + scales[2 * j + 1] * hi;
        }
    }
}

}  // namespace

float dot_q4_0_q8_0(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_0*>(w);
    const auto* bx = static_cast<const BlockQ8_0*>(x);
    float acc[kLanes] = {};
    for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
        int32_t lanes[kLanes];
        block_lanes([&](int j) { return nibble(bw[ib].qs, j) - 8; }, bx[ib].qs, lanes);
        fma_lanes(fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d), lanes, acc);
    }
    return hsum_float_8(acc);
}

float dot_q4_1_q8_1(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_1*>(w);
    const auto* bx = static_cast<const BlockQ8_1*>(x);
    float acc[kLanes] = {};
    float summs = 0.0f;  // Σ m · s, fused as GCC fuses it in llama.cpp's build
    for (int64_t ib = 0; ib < n / kQK8_1; ++ib) {
        summs = std::fma(fp16_to_f32(bw[ib].m), fp16_to_f32(bx[ib].s), summs);
        int32_t lanes[kLanes];
        block_lanes([&](int j) { return nibble(bw[ib].qs, j); }, bx[ib].qs, lanes);
        fma_lanes(fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d), lanes, acc);
    }
    return hsum_float_8(acc) + summs;
}

// Q5_0 as Q4_0 (ggml ORs the fifth bit into the nibble's byte, then the value is q - 16).
float dot_q5_0_q8_0(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ5_0*>(w);
    const auto* bx = static_cast<const BlockQ8_0*>(x);
    float acc[kLanes] = {};
    for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
        int32_t lanes[kLanes];
        block_lanes([&](int j) { return (nibble(bw[ib].qs, j) | q5_high_bit(bw[ib].qh, j) << 4) - 16; }, bx[ib].qs,
                    lanes);
        fma_lanes(fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d), lanes, acc);
    }
    return hsum_float_8(acc);
}

// Q5_1 as Q4_1, with the fifth bit.
float dot_q5_1_q8_1(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ5_1*>(w);
    const auto* bx = static_cast<const BlockQ8_1*>(x);
    float acc[kLanes] = {};
    float summs = 0.0f;  // Σ m · s, fused as in dot_q4_1_q8_1
    for (int64_t ib = 0; ib < n / kQK8_1; ++ib) {
        summs = std::fma(fp16_to_f32(bw[ib].m), fp16_to_f32(bx[ib].s), summs);
        int32_t lanes[kLanes];
        block_lanes([&](int j) { return nibble(bw[ib].qs, j) | q5_high_bit(bw[ib].qh, j) << 4; }, bx[ib].qs, lanes);
        fma_lanes(fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d), lanes, acc);
    }
    return hsum_float_8(acc) + summs;
}

float dot_q8_0_q8_0(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ8_0*>(w);
    const auto* bx = static_cast<const BlockQ8_0*>(x);
    float acc[kLanes] = {};
    for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
        int32_t lanes[kLanes];
        block_lanes([&](int j) { return int{bw[ib].qs[j]}; }, bx[ib].qs, lanes);
        fma_lanes(fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d), lanes, acc);
    }
    return hsum_float_8(acc);
}

float dot_q4_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_K*>(w);
    const auto* by = static_cast<const BlockQ8_K*>(x);
    float acc[kLanes] = {};
    float acc_m[4] = {};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = by[i].d * fp16_to_f32(bw[i].d);
        const float dmin = -by[i].d * fp16_to_f32(bw[i].dmin);
        uint8_t sm[16];
        unpack_scales_mins(bw[i].scales, sm);
        int32_t prod[4];
        mins_times_bsums(sm + 8, by[i], prod);
        for (int k = 0; k < 4; ++k) acc_m[k] = std::fma(dmin, static_cast<float>(prod[k]), acc_m[k]);
        int32_t sumi[kLanes];
        k4_k5_lanes(bw[i].qs, nullptr, sm, by[i].qs, sumi);
        fma_lanes(d, sumi, acc);
    }
    return hsum_float_8(acc) + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3]));
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ5_K*>(w);
    const auto* by = static_cast<const BlockQ8_K*>(x);
    float acc[kLanes] = {};
    float summs = 0.0f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = by[i].d * fp16_to_f32(bw[i].d);
        const float dmin = -by[i].d * fp16_to_f32(bw[i].dmin);
        uint8_t sm[16];
        unpack_scales_mins(bw[i].scales, sm);
        int32_t prod[4];
        mins_times_bsums(sm + 8, by[i], prod);
        summs = std::fma(dmin, static_cast<float>((prod[0] + prod[1]) + (prod[2] + prod[3])), summs);
        int32_t sumi[kLanes];
        k4_k5_lanes(bw[i].qs, bw[i].qh, sm, by[i].qs, sumi);
        fma_lanes(d, sumi, acc);
    }
    return hsum_float_8(acc) + summs;
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ6_K*>(w);
    const auto* by = static_cast<const BlockQ8_K*>(x);
    float acc[kLanes] = {};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = by[i].d * fp16_to_f32(bw[i].d);
        int32_t sumi[kLanes] = {};
        const uint8_t* ql = bw[i].ql;
        const uint8_t* qh = bw[i].qh;
        const int8_t* q8 = by[i].qs;
        // Two chunks of 128; in each, four groups of 32 (quant q_g paired with q8[32g..32g+31]),
        // 16 elements per scale: lanes 0..3 take scale 8j+2g, lanes 4..7 scale 8j+2g+1.
        for (int j = 0; j < kQK_K / 128; ++j, ql += 64, qh += 32, q8 += 128) {
            for (int g = 0; g < 4; ++g) {
                for (int m = 0; m < kLanes; ++m) {
                    int32_t s = 0;
                    for (int k = 0; k < 4; ++k) {
                        const int b = 4 * m + k;
                        const int low = g == 0 ? ql[b] & 0xF : g == 1 ? ql[32 + b] & 0xF : g == 2 ? ql[b] >> 4 : ql[32 + b] >> 4;
                        const int q = low | (((qh[b] >> (2 * g)) & 3) << 4);
                        s += (q - 32) * q8[32 * g + b];
                    }
                    sumi[m] += bw[i].scales[8 * j + 2 * g + (m < 4 ? 0 : 1)] * s;
                }
            }
        }
        fma_lanes(d, sumi, acc);
    }
    return hsum_float_8(acc);
}

// The float dots as ggml's AVX2 GGML_F32/GGML_F16 loops: 4 accumulators × 8
// lanes over the first n & ~31 elements, reduced (s0+s2)+(s1+s3) per lane,
// then the 128-bit halves, then two hadds; the leftovers one by one.
namespace {

float reduce4(float s[4][kLanes]) {
    float t0[4];
    for (int i = 0; i < 4; ++i) {
        const float lo = (s[0][i] + s[2][i]) + (s[1][i] + s[3][i]);
        const float hi = (s[0][i + 4] + s[2][i + 4]) + (s[1][i + 4] + s[3][i + 4]);
        t0[i] = lo + hi;
    }
    return (t0[0] + t0[1]) + (t0[2] + t0[3]);
}

template <class Load>
float dot_4x8(Load load, int64_t np) {
    float s[4][kLanes] = {};
    for (int64_t i = 0; i < np; i += 32)
        for (int j = 0; j < 4; ++j)
            for (int l = 0; l < kLanes; ++l) {
                const int64_t e = i + 8 * j + l;
                s[j][l] = std::fma(load.a(e), load.b(e), s[j][l]);
            }
    return reduce4(s);
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
    struct Load {
        const float *x, *y;
        float a(int64_t i) const { return x[i]; }
        float b(int64_t i) const { return y[i]; }
    };
    const int64_t np = n & ~int64_t{31};
    float sum = dot_4x8(Load{a, b}, np);
    for (int64_t i = np; i < n; ++i) sum = std::fma(a[i], b[i], sum);  // ggml's C tail, fused by GCC
    return sum;
}

float dot_f16(const uint16_t* a, const uint16_t* b, int64_t n) {
    struct Load {
        const uint16_t *x, *y;
        float a(int64_t i) const { return fp16_to_f32(x[i]); }
        float b(int64_t i) const { return fp16_to_f32(y[i]); }
    };
    const int64_t np = n & ~int64_t{31};
    double sum = dot_4x8(Load{a, b}, np);
    for (int64_t i = np; i < n; ++i) sum += static_cast<double>(fp16_to_f32(a[i]) * fp16_to_f32(b[i]));
    return static_cast<float>(sum);
}

// bf16: c_j = fma(a, b, c_j) per lane (GCC fuses ggml's mul+add), reduced as
// (c1+c3)+(c2+c4), then hsum_float_8's order; leftovers in double.
float dot_bf16(const uint16_t* a, const uint16_t* b, int64_t n) {
    float c[4][kLanes] = {};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; ++j)
            for (int l = 0; l < kLanes; ++l)
                c[j][l] = std::fma(bf16_to_f32(a[i + 8 * j + l]), bf16_to_f32(b[i + 8 * j + l]), c[j][l]);
    float lanes[kLanes];
    for (int l = 0; l < kLanes; ++l) lanes[l] = (c[0][l] + c[2][l]) + (c[1][l] + c[3][l]);
    double sum = hsum_float_8(lanes);
    for (; i < n; ++i) sum += static_cast<double>(bf16_to_f32(a[i]) * bf16_to_f32(b[i]));
    return static_cast<float>(sum);
}

}  // namespace kvscope::quant::scalar
