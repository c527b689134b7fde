#pragma once
// Activations quantised to q8_1 for the integer dot products (llama.cpp's
// CUDA quantize_q8_1, quantize.cu): per block of 32, d = max|x| / 127,
// q = round(x / d) (half away from zero), and s = d · Σq. llama.cpp's kernel
// stores the float sum of x as s; the sum of the quantised values is exact on
// both sides (a kernel's float reduction would sum in another order than the
// host), and it is what the dot products' minimum terms multiply anyway.
#include <cmath>

#include "kernels/twin/blocks.h"

namespace kvscope::twin {

KVS_HD void quantize_block_q8_1(const float* x, BlockQ8_1& out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127.0f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
        const int q = amax == 0.0f ? 0 : static_cast<int>(roundf(x[j] / d));
        out.qs[j] = static_cast<int8_t>(q);
        sum += q;
    }
    out.d = float_to_half(d);
    out.s = float_to_half(d * static_cast<float>(sum));
}

}  // namespace kvscope::twin

namespace kvscope::twin {

// A block of 32 values to q8_0 as the CPU backend stores its q8_0 KV cache
// (quant/quantize_activation.cpp): d = max|x| / 127, q = round-half-even of
// x · (127 / max|x|) with the product rounded to float first.
KVS_HD void quantize_block_q8_0(const float* x, quant::BlockQ8_0& out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < 32; ++j) {
        const float product = x[j] * id;
        out.qs[j] = static_cast<int8_t>(static_cast<int>(rintf(product)));
    }
    out.d = float_to_half(d);
}

}  // namespace kvscope::twin
