#pragma once
// The dot product of one quantised weight block with the q8_1 blocks of the
// activation that cover the same elements, in integers (dp4a) as llama.cpp's
// mmvq does (vecdotq.cuh), then scaled: a block of 32 meets one q8_1 block, a
// K-quant super-block of 256 meets eight. Unquantised weights (F32, F16,
// BF16) meet the activation as floats.
#include "kernels/twin/blocks.h"

namespace kvscope::twin {

// Σ over 32 elements of q8_1 values times `w_int8(j)` (the weight's integer at
// j, -128..127), four at a time through dp4a.
template <typename WeightInt>
KVS_HD int dot32_int(const BlockQ8_1& x, WeightInt w_int8) {
    int sumi = 0;
    for (int j = 0; j < 32; j += 4) {
        const int w = (w_int8(j) & 0xff) | ((w_int8(j + 1) & 0xff) << 8) | ((w_int8(j + 2) & 0xff) << 16) |
                      ((w_int8(j + 3) & 0xff) << 24);
        sumi = dp4a(w, load_int(x.qs + j), sumi);
    }
    return sumi;
}

// The sum of the 16 q8_1 values [from, from + 16) times w_int8(j), for Q6_K's sub-blocks of 16.
template <typename WeightInt>
KVS_HD int dot16_int(const BlockQ8_1& x, int from, WeightInt w_int8) {
    int sumi = 0;
    for (int j = from; j < from + 16; j += 4) {
        const int w = (w_int8(j) & 0xff) | ((w_int8(j + 1) & 0xff) << 8) | ((w_int8(j + 2) & 0xff) << 16) |
                      ((w_int8(j + 3) & 0xff) << 24);
        sumi = dp4a(w, load_int(x.qs + j), sumi);
    }
    return sumi;
}

KVS_HD float vec_dot_q4_0_q8_1(const BlockQ4_0& w, const BlockQ8_1& x) {
    const int sumi = dot32_int(x, [&](int j) { return j < 16 ? (w.qs[j] & 15) : (w.qs[j - 16] >> 4); });
    // (q - 8) · x = q · x - 8 Σx, with Σx ≈ s / d8.
    return half_to_float(w.d) * (static_cast<float>(sumi) * half_to_float(x.d) - 8.0f * half_to_float(x.s));
}

KVS_HD float vec_dot_q4_1_q8_1(const BlockQ4_1& w, const BlockQ8_1& x) {
    const int sumi = dot32_int(x, [&](int j) { return j < 16 ? (w.qs[j] & 15) : (w.qs[j - 16] >> 4); });
    return half_to_float(w.d) * half_to_float(x.d) * static_cast<float>(sumi) + half_to_float(w.m) * half_to_float(x.s);
}

KVS_HD float vec_dot_q5_0_q8_1(const BlockQ5_0& w, const BlockQ8_1& x) {
    const int sumi = dot32_int(x, [&](int j) { return q5_int(w.qs, w.qh, j); });
    // (q - 16) · x = q · x - 16 Σx, as llama.cpp's vec_dot_q5_0_q8_1_impl.
    return half_to_float(w.d) * (static_cast<float>(sumi) * half_to_float(x.d) - 16.0f * half_to_float(x.s));
}

KVS_HD float vec_dot_q5_1_q8_1(const BlockQ5_1& w, const BlockQ8_1& x) {
    const int sumi = dot32_int(x, [&](int j) { return q5_int(w.qs, w.qh, j); });
    return half_to_float(w.d) * half_to_float(x.d) * static_cast<float>(sumi) + half_to_float(w.m) * half_to_float(x.s);
}

KVS_HD float vec_dot_q8_0_q8_1(const BlockQ8_0& w, const BlockQ8_1& x) {
    const int sumi = dot32_int(x, [&](int j) { return static_cast<int>(w.qs[j]); });
    return half_to_float(w.d) * half_to_float(x.d) * static_cast<float>(sumi);
}

// x: the 8 q8_1 blocks of the super-block's 256 elements.
KVS_HD float vec_dot_q4_K_q8_1(const BlockQ4_K& w, const BlockQ8_1* x) {
    float sum_d = 0.0f, sum_m = 0.0f;
    for (int sub = 0; sub < 8; ++sub) {
        const int chunk = sub / 2, shift = 4 * (sub % 2);
        const int sumi = dot32_int(x[sub], [&](int l) { return (w.qs[32 * chunk + l] >> shift) & 15; });
        int sc, m;
        scale_min_k4(sub, w.scales, sc, m);
        sum_d += half_to_float(x[sub].d) * static_cast<float>(sc * sumi);
        sum_m += half_to_float(x[sub].s) * static_cast<float>(m);
    }
    return half_to_float(w.d) * sum_d - half_to_float(w.dmin) * sum_m;
}

KVS_HD float vec_dot_q5_K_q8_1(const BlockQ5_K& w, const BlockQ8_1* x) {
    float sum_d = 0.0f, sum_m = 0.0f;
    for (int sub = 0; sub < 8; ++sub) {
        const int chunk = sub / 2, shift = 4 * (sub % 2);
        const int sumi = dot32_int(x[sub], [&](int l) {
            return ((w.qs[32 * chunk + l] >> shift) & 15) | (((w.qh[l] >> sub) & 1) << 4);
        });
        int sc, m;
        scale_min_k4(sub, w.scales, sc, m);
        sum_d += half_to_float(x[sub].d) * static_cast<float>(sc * sumi);
        sum_m += half_to_float(x[sub].s) * static_cast<float>(m);
    }
    return half_to_float(w.d) * sum_d - half_to_float(w.dmin) * sum_m;
}

KVS_HD float vec_dot_q6_K_q8_1(const BlockQ6_K& w, const BlockQ8_1* x) {
    float sum = 0.0f;
    for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = w.ql + 64 * half;
        const uint8_t* qh = w.qh + 32 * half;
        const int8_t* sc = w.scales + 8 * half;
        for (int part = 0; part < 4; ++part) {  // q8_1 block 4 * half + part
            const BlockQ8_1& xb = x[4 * half + part];
            auto value = [&](int l) {
                int q;
                switch (part) {
                    case 0: q = (ql[l] & 15) | ((qh[l] & 3) << 4); break;
                    case 1: q = (ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4); break;
                    case 2: q = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4); break;
                    default: q = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4); break;
                }
                return q - 32;
            };
            const int lo = dot16_int(xb, 0, value), hi = dot16_int(xb, 16, value);
            sum += half_to_float(xb.d) * static_cast<float>(sc[2 * part] * lo + sc[2 * part + 1] * hi);
        }
    }
    return half_to_float(w.d) * sum;
}

// Unquantised weights against float activations (n elements).
KVS_HD float dot_f32_f32(const float* w, const float* x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += w[i] * x[i];
    return s;
}
KVS_HD float dot_f16_f32(const uint16_t* w, const float* x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += half_to_float(w[i]) * x[i];
    return s;
}
KVS_HD float dot_bf16_f32(const uint16_t* w, const float* x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += bf16_to_float(w[i]) * x[i];
    return s;
}

}  // namespace kvscope::twin
