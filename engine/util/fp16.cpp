#include "util/fp16.h"

#include <vector>

namespace kvscope {
namespace {

// Exact conversion of one half to float (used only to fill the table).
float fp16_to_f32_exact(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    if (exponent == 0) {
        if (mantissa == 0) return bits_to_f32(sign);
        // Subnormal half: normalise.
        int e = -1;
        do { ++e; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
        mantissa &= 0x3ff;
        return bits_to_f32(sign | static_cast<uint32_t>(127 - 15 - e) << 23 | mantissa << 13);
    }
    if (exponent == 31) return bits_to_f32(sign | 0x7f800000 | mantissa << 13);
    return bits_to_f32(sign | (exponent + 127 - 15) << 23 | mantissa << 13);
}

const float* build_table() {
    static std::vector<float> table = [] {
        std::vector<float> t(65536);
        for (uint32_t i = 0; i < 65536; ++i) t[i] = fp16_to_f32_exact(static_cast<uint16_t>(i));
        return t;
    }();
    return table.data();
}

}  // namespace

const float* const kFp16ToFp32Table = build_table();

// Float -> half with round-to-nearest-even (the algorithm of ggml's
// ggml_compute_fp32_to_fp16 scalar path, from Maratyszcza's FP16 library).
uint16_t f32_to_fp16(float f) {
    const float scale_to_inf = bits_to_f32(0x77800000);
    const float scale_to_zero = bits_to_f32(0x08800000);
    float base = (f < 0 ? -f : f) * scale_to_inf * scale_to_zero;
    const uint32_t w = f32_to_bits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xff000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = bits_to_f32((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = f32_to_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007c00u;
    const uint32_t mantissa_bits = bits & 0x00000fffu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xff000000u ? 0x7e00u : nonsign));
}

}  // namespace kvscope
