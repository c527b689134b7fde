#pragma once
// What every host/device twin header shares: the annotation that makes a
// function callable from a CUDA kernel and from host code alike (nvcc sees
// __host__ __device__, g++ sees nothing), f16/bf16 bits <-> float done with
// integer arithmetic (the same bits on both sides), and dp4a with its
// plain-C fallback (llama.cpp's ggml_cuda_dp4a, common.cuh).
//
// The CPU tests compile these headers with g++ and check them against the
// engine's CPU code; the GPU tests check each kernel against them.
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define KVS_HD __host__ __device__ inline
#else
#define KVS_HD inline
#endif

namespace kvscope::twin {

// IEEE half bits to float (normal, subnormal, inf, NaN), exact.
KVS_HD float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400u) == 0) {
                mant <<= 1;
                --exp;
            }
            mant &= 0x3ffu;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
#if defined(__CUDA_ARCH__)
    f = __uint_as_float(bits);
#else
    std::memcpy(&f, &bits, sizeof f);
#endif
    return f;
}

// Float to IEEE half bits, round to nearest even (as __float2half_rn and the
// engine's f32_to_fp16).
KVS_HD uint16_t float_to_half(float f) {
    uint32_t x;
#if defined(__CUDA_ARCH__)
    x = __float_as_uint(f);
#else
    std::memcpy(&x, &f, sizeof x);
#endif
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (abs < 0x38800000u) {  // subnormal half (or zero)
        if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
        const uint32_t e = abs >> 23;
        const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;  // 14 + (112 - e)
        const uint32_t half_m = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        uint32_t r = half_m + ((rem > halfway || (rem == halfway && (half_m & 1u))) ? 1u : 0u);
        return static_cast<uint16_t>(sign | r);
    }
    uint32_t h = ((abs - 0x38000000u) >> 13);  // rebias exponent, drop 13 mantissa bits
    const uint32_t rem = abs & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
}

// bf16 bits to float: the upper 16 bits of an f32.
KVS_HD float bf16_to_float(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
#if defined(__CUDA_ARCH__)
    f = __uint_as_float(bits);
#else
    std::memcpy(&f, &bits, sizeof f);
#endif
    return f;
}

// c + the dot product of the four signed bytes of a and b.
KVS_HD int dp4a(int a, int b, int c) {
#if defined(__CUDA_ARCH__)
    return __dp4a(a, b, c);
#else
    for (int i = 0; i < 4; ++i)
        c += static_cast<int>(static_cast<int8_t>(a >> (8 * i))) * static_cast<int>(static_cast<int8_t>(b >> (8 * i)));
    return c;
#endif
}

// Four consecutive bytes as one int (unaligned-safe: byte loads).
KVS_HD int load_int(const uint8_t* p) {
    return static_cast<int>(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                            (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24));
}
KVS_HD int load_int(const int8_t* p) { return load_int(reinterpret_cast<const uint8_t*>(p)); }

}  // namespace kvscope::twin
