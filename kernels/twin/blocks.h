#pragma once
// The quantised blocks as kernels read them: the engine's layouts
// (quant/block_types.h, ggml's ggml-common.h) and, per type, the value of one
// element (dequantisation), callable on the device and the host alike.
#include <cmath>

#include "kernels/twin/hd.h"
#include "quant/block_types.h"

namespace kvscope::twin {

using quant::BlockQ4_0;
using quant::BlockQ4_1;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ5_1;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_1;

// ggml's get_scale_min_k4 (quant/block_types.h scale_min_k4), for the device too.
KVS_HD void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Element i (0..31) of a block of 32.
KVS_HD float dequant_q4_0(const BlockQ4_0& b, int i) {
    const int q = i < 16 ? (b.qs[i] & 15) : (b.qs[i - 16] >> 4);
    return static_cast<float>(q - 8) * half_to_float(b.d);
}
KVS_HD float dequant_q4_1(const BlockQ4_1& b, int i) {
    const int q = i < 16 ? (b.qs[i] & 15) : (b.qs[i - 16] >> 4);
    return fmaf(static_cast<float>(q), half_to_float(b.d), half_to_float(b.m));  // one rounding, as the CPU's
}
// The 5-bit integer (0..31) of element i of a Q5_0/Q5_1 block: nibble | fifth bit << 4.
KVS_HD int q5_int(const uint8_t* qs, const uint8_t* qh, int i) {
    const int nibble = i < 16 ? (qs[i] & 15) : (qs[i - 16] >> 4);
    return nibble | (((qh[i / 8] >> (i % 8)) & 1) << 4);
}
KVS_HD float dequant_q5_0(const BlockQ5_0& b, int i) {
    return static_cast<float>(q5_int(b.qs, b.qh, i) - 16) * half_to_float(b.d);
}
KVS_HD float dequant_q5_1(const BlockQ5_1& b, int i) {
    return fmaf(static_cast<float>(q5_int(b.qs, b.qh, i)), half_to_float(b.d), half_to_float(b.m));  // as the CPU's
}
KVS_HD float dequant_q8_0(const BlockQ8_0& b, int i) { return static_cast<float>(b.qs[i]) * half_to_float(b.d); }

// Element i (0..255) of a K-quant super-block, as ggml's dequantize_row_*.
KVS_HD float dequant_q4_K(const BlockQ4_K& b, int i) {
    const int chunk = i / 64, within = i % 64, sub = 2 * chunk + within / 32, l = within % 32;
    int sc, m;
    scale_min_k4(sub, b.scales, sc, m);
    const int q = within < 32 ? (b.qs[32 * chunk + l] & 15) : (b.qs[32 * chunk + l] >> 4);
    const float d = half_to_float(b.d) * static_cast<float>(sc), mn = half_to_float(b.dmin) * static_cast<float>(m);
    return fmaf(d, static_cast<float>(q), -mn);
}
KVS_HD float dequant_q5_K(const BlockQ5_K& b, int i) {
    const int chunk = i / 64, within = i % 64, sub = 2 * chunk + within / 32, l = within % 32;
    int sc, m;
    scale_min_k4(sub, b.scales, sc, m);
    int q = within < 32 ? (b.qs[32 * chunk + l] & 15) : (b.qs[32 * chunk + l] >> 4);
    if (b.qh[l] & (1 << sub)) q += 16;
    const float d = half_to_float(b.d) * static_cast<float>(sc), mn = half_to_float(b.dmin) * static_cast<float>(m);
    return fmaf(d, static_cast<float>(q), -mn);
}
KVS_HD float dequant_q6_K(const BlockQ6_K& b, int i) {
    const int half = i / 128, within = i % 128, part = within / 32, l = within % 32;
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    const int8_t* sc = b.scales + 8 * half;
    int q;
    switch (part) {
        case 0: q = (ql[l] & 15) | ((qh[l] & 3) << 4); break;
        case 1: q = (ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4); break;
        case 2: q = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4); break;
        default: q = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4); break;
    }
    return half_to_float(b.d) * static_cast<float>(sc[l / 16 + 2 * part]) * static_cast<float>(q - 32);
}

}  // namespace kvscope::twin
