// Portable dot-product kernels; each mirrors the generic (non-SIMD) branch of
// the matching ggml_vec_dot_* so that builds without AVX2 sum in ggml's order.
#include "backend/cpu/vec_dot_scalar.h"

#include <cstring>

#include "quant/block_types.h"
#include "util/fp16.h"

namespace kvscope::quant::scalar {

float dot_q4_0_q8_0(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_0*>(w);
    const auto* bx = static_cast<const BlockQ8_0*>(x);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            sumi0 += ((bw[ib].qs[j] & 0x0F) - 8) * bx[ib].qs[j];
            sumi1 += ((bw[ib].qs[j] >> 4) - 8) * bx[ib].qs[j + kQK4_0 / 2];
        }
        sumf += static_cast<float>(sumi0 + sumi1) * fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d);
    }
    return sumf;
}

float dot_q4_1_q8_1(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_1*>(w);
    const auto* bx = static_cast<const BlockQ8_1*>(x);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / kQK8_1; ++ib) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < kQK4_1 / 2; ++j) {
            sumi0 += (bw[ib].qs[j] & 0x0F) * bx[ib].qs[j];
            sumi1 += (bw[ib].qs[j] >> 4) * bx[ib].qs[j + kQK4_1 / 2];
        }
        // sum_i (q_i d + m) x_i = d * dx * sum q_i xq_i + m * (dx * sum xq_i); the last factor is s.
        sumf += (fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d)) * static_cast<float>(sumi0 + sumi1) +
                fp16_to_f32(bw[ib].m) * fp16_to_f32(bx[ib].s);
    }
    return sumf;
}

float dot_q8_0_q8_0(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ8_0*>(w);
    const auto* bx = static_cast<const BlockQ8_0*>(x);
    float sumf = 0;
    for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
        int sumi = 0;
        for (int j = 0; j < kQK8_0; ++j) sumi += bw[ib].qs[j] * bx[ib].qs[j];
        sumf += static_cast<float>(sumi) * (fp16_to_f32(bw[ib].d) * fp16_to_f32(bx[ib].d));
    }
    return sumf;
}

namespace {

// Unpacks the 8 six-bit scales (out[0..7]) and mins (out[8..15]) of a Q4_K/Q5_K block.
void unpack_scales_mins(const uint8_t* packed, uint8_t* out) {
    for (int j = 0; j < 8; ++j) scale_min_k4(j, packed, out[j], out[8 + j]);
}

// The K-quant tail shared by Q4_K and Q5_K: `a` holds the 256 unsigned
// quants, sums[8] accumulates d * (per-lane integer sums) as ggml does.
void accumulate_k_block(const int8_t* a, const BlockQ8_K& y, const uint8_t* scales, float d_w, float dmin_w,
                        float* sums, float& sumf) {
    const uint8_t* mins = scales + 8;
    int sumi = 0;
    for (int j = 0; j < kQK_K / 16; ++j) sumi += y.bsums[j] * mins[j / 2];
    int32_t aux32[8] = {};
    const int8_t* q8 = y.qs;
    for (int j = 0; j < kQK_K / 32; ++j) {
        const int32_t scale = scales[j];
        for (int k = 0; k < 4; ++k, q8 += 8, a += 8)
            for (int l = 0; l < 8; ++l) aux32[l] += scale * (q8[l] * a[l]);
    }
    const float d = d_w * y.d;
    for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    const float dmin = dmin_w * y.d;
    sumf -= dmin * static_cast<float>(sumi);
}

}  // namespace

float dot_q4_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_K*>(w);
    const auto* bx = static_cast<const BlockQ8_K*>(x);
    float sums[8] = {};
    float sumf = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        int8_t aux8[kQK_K];
        int8_t* a = aux8;
        const uint8_t* q4 = bw[i].qs;
        for (int j = 0; j < kQK_K / 64; ++j, q4 += 32) {
            for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>(q4[l] & 0xF);
            for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>(q4[l] >> 4);
        }
        uint8_t sm[16];
        unpack_scales_mins(bw[i].scales, sm);
        accumulate_k_block(aux8, bx[i], sm, fp16_to_f32(bw[i].d), fp16_to_f32(bw[i].dmin), sums, sumf);
    }
    for (float s : sums) sumf += s;
    return sumf;
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ5_K*>(w);
    const auto* bx = static_cast<const BlockQ8_K*>(x);
    float sums[8] = {};
    float sumf = 0;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        int8_t aux8[kQK_K];
        int8_t* a = aux8;
        const uint8_t* q4 = bw[i].qs;
        const uint8_t* hm = bw[i].qh;
        uint8_t m = 1;
        for (int j = 0; j < kQK_K / 64; ++j, q4 += 32) {
            for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>((q4[l] & 0xF) + (hm[l] & m ? 16 : 0));
            m = static_cast<uint8_t>(m << 1);
            for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>((q4[l] >> 4) + (hm[l] & m ? 16 : 0));
            m = static_cast<uint8_t>(m << 1);
        }
        uint8_t sm[16];
        unpack_scales_mins(bw[i].scales, sm);
        accumulate_k_block(aux8, bx[i], sm, fp16_to_f32(bw[i].d), fp16_to_f32(bw[i].dmin), sums, sumf);
    }
    for (float s : sums) sumf += s;
    return sumf;
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ6_K*>(w);
    const auto* bx = static_cast<const BlockQ8_K*>(x);
    float sums[8] = {};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        int8_t aux8[kQK_K];
        int8_t* a = aux8;
        const uint8_t* ql = bw[i].ql;
        const uint8_t* qh = bw[i].qh;
        for (int half = 0; half < 2; ++half, a += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                a[l + 0] = static_cast<int8_t>(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                a[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                a[l + 64] = static_cast<int8_t>(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                a[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int32_t aux32[8] = {};
        a = aux8;
        const int8_t* q8 = bx[i].qs;
        for (int j = 0; j < kQK_K / 16; ++j) {
            const int32_t scale = bw[i].scales[j];
            for (int k = 0; k < 2; ++k, q8 += 8, a += 8)
                for (int l = 0; l < 8; ++l) aux32[l] += scale * (q8[l] * a[l]);
        }
        const float d = fp16_to_f32(bw[i].d) * bx[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    float sumf = 0;
    for (float s : sums) sumf += s;
    return sumf;
}

// The plain-float dots accumulate float products in double, as ggml's scalar
// ggml_vec_dot_f32/f16/bf16 do (ggml_float).
float dot_f32(const float* a, const float* b, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i] * b[i]);
    return static_cast<float>(sum);
}

float dot_f16(const uint16_t* a, const uint16_t* b, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_f32(a[i]) * fp16_to_f32(b[i]));
    return static_cast<float>(sum);
}

float dot_bf16(const uint16_t* a, const uint16_t* b, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_f32(a[i]) * bf16_to_f32(b[i]));
    return static_cast<float>(sum);
}

}  // namespace kvscope::quant::scalar
