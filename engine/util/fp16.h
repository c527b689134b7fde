#pragma once
// IEEE half and bfloat16 conversions (bit-exact with ggml's reference code:
// round to nearest even, NaN kept quiet).
#include <cstdint>
#include <cstring>

namespace kvscope {

inline float bits_to_f32(uint32_t bits) { float f; std::memcpy(&f, &bits, 4); return f; }
inline uint32_t f32_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// Half -> float via a 64 Ki-entry table built once (what ggml does too: the
// conversion sits in the innermost loops of attention and dequantisation).
extern const float* const kFp16ToFp32Table;

inline float fp16_to_f32(uint16_t h) { return kFp16ToFp32Table[h]; }

uint16_t f32_to_fp16(float f);

inline float bf16_to_f32(uint16_t h) { return bits_to_f32(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_to_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
    return static_cast<uint16_t>((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

// Rounds a float to the nearest value representable as a half.
inline float round_to_fp16(float f) { return fp16_to_f32(f32_to_fp16(f)); }

}  // namespace kvscope
