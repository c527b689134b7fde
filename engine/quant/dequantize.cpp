// dequantize_row: the reference formulas of ggml-quants.c (dequantize_row_*),
// written out per type. Used for embedding lookups and tests, not in matvecs.
// Where GCC contracts ggml's x*d + m into an FMA in llama.cpp's build, we write
// the std::fma (this project builds with -ffp-contract=off, so every rounding
// is in the source and no CPU or flag changes it).
#include <cmath>
#include <cstring>
#include <string>

#include "quant/block_types.h"
#include "quant/quant.h"
#include "util/error.h"
#include "util/fp16.h"

namespace kvscope {
namespace {

using namespace quant;

void dequant_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK4_0) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
            y[j + kQK4_0 / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequant_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK4_1) {
        const float d = fp16_to_f32(x[i].d);
        const float m = fp16_to_f32(x[i].m);
        for (int j = 0; j < kQK4_1 / 2; ++j) {
            y[j] = std::fma(static_cast<float>(x[i].qs[j] & 0x0F), d, m);
            y[j + kQK4_1 / 2] = std::fma(static_cast<float>(x[i].qs[j] >> 4), d, m);
        }
    }
}

// ggml's dequantize_row_q5_0/q5_1: element j's integer is nibble | fifth bit << 4.
void dequant_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK5_0) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < kQK5_0 / 2; ++j) {
            const int lo = (x[i].qs[j] & 0x0F) | (q5_high_bit(x[i].qh, j) << 4);
            const int hi = (x[i].qs[j] >> 4) | (q5_high_bit(x[i].qh, j + kQK5_0 / 2) << 4);
            y[j] = static_cast<float>(lo - 16) * d;
            y[j + kQK5_0 / 2] = static_cast<float>(hi - 16) * d;
        }
    }
}

void dequant_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK5_1) {
        const float d = fp16_to_f32(x[i].d);
        const float m = fp16_to_f32(x[i].m);
        for (int j = 0; j < kQK5_1 / 2; ++j) {
            const int lo = (x[i].qs[j] & 0x0F) | (q5_high_bit(x[i].qh, j) << 4);
            const int hi = (x[i].qs[j] >> 4) | (q5_high_bit(x[i].qh, j + kQK5_1 / 2) << 4);
            y[j] = std::fma(static_cast<float>(lo), d, m);
            y[j + kQK5_1 / 2] = std::fma(static_cast<float>(hi), d, m);
        }
    }
}

void dequant_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK8_0) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

// Q4_K and Q5_K share everything but the fifth bit; qh == nullptr for Q4_K.
void dequant_k4_k5(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qs, const uint8_t* qh,
                   float* y) {
    const float d = fp16_to_f32(d16);
    const float min = fp16_to_f32(dmin16);
    uint8_t u1 = 1, u2 = 2;  // qh bits of the two sub-blocks of the current 64-element chunk
    for (int j = 0, is = 0; j < kQK_K; j += 64, is += 2, qs += 32) {
        uint8_t sc, m;
        scale_min_k4(is + 0, scales, sc, m);
        const float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, scales, sc, m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; ++l) {
            const int hi = qh && (qh[l] & u1) ? 16 : 0;
            *y++ = std::fma(d1, static_cast<float>((qs[l] & 0xF) + hi), -m1);
        }
        for (int l = 0; l < 32; ++l) {
            const int hi = qh && (qh[l] & u2) ? 16 : 0;
            *y++ = std::fma(d2, static_cast<float>((qs[l] >> 4) + hi), -m2);
        }
        u1 = static_cast<uint8_t>(u1 << 2);
        u2 = static_cast<uint8_t>(u2 << 2);
    }
}

void dequant_q6_K(const BlockQ6_K* x, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_f32(x[i].d);
        const uint8_t* ql = x[i].ql;
        const uint8_t* qh = x[i].qh;
        const int8_t* sc = x[i].scales;
        for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * static_cast<float>(q1);
                y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
                y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
                y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
            }
        }
    }
}

}  // namespace

void dequantize_row(TensorType t, const void* src, float* y, int64_t n) {
    (void)row_bytes(t, n);  // validates the type id and n
    const int64_t nb = n / tensor_type_info(t).block_elems;
    switch (t) {
    case TensorType::F32:
        std::memcpy(y, src, static_cast<size_t>(n) * sizeof(float));
        return;
    case TensorType::F16: {
        const auto* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(h[i]);
        return;
    }
    case TensorType::BF16: {
        const auto* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(h[i]);
        return;
    }
    case TensorType::Q4_0: dequant_q4_0(static_cast<const BlockQ4_0*>(src), y, nb); return;
    case TensorType::Q4_1: dequant_q4_1(static_cast<const BlockQ4_1*>(src), y, nb); return;
    case TensorType::Q5_0: dequant_q5_0(static_cast<const BlockQ5_0*>(src), y, nb); return;
    case TensorType::Q5_1: dequant_q5_1(static_cast<const BlockQ5_1*>(src), y, nb); return;
    case TensorType::Q8_0: dequant_q8_0(static_cast<const BlockQ8_0*>(src), y, nb); return;
    case TensorType::Q4_K: {
        const auto* x = static_cast<const BlockQ4_K*>(src);
        for (int64_t i = 0; i < nb; ++i) dequant_k4_k5(x[i].d, x[i].dmin, x[i].scales, x[i].qs, nullptr, y + i * kQK_K);
        return;
    }
    case TensorType::Q5_K: {
        const auto* x = static_cast<const BlockQ5_K*>(src);
        for (int64_t i = 0; i < nb; ++i) dequant_k4_k5(x[i].d, x[i].dmin, x[i].scales, x[i].qs, x[i].qh, y + i * kQK_K);
        return;
    }
    case TensorType::Q6_K: dequant_q6_K(static_cast<const BlockQ6_K*>(src), y, nb); return;
    default:
        break;
    }
    throw Error(std::string("dequantize_row: tensor type ") + tensor_type_name(t) +
                " is not supported (supported: " + computable_type_names() + ")");
}

}  // namespace kvscope
