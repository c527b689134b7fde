#pragma once
// Byte layouts of ggml's quantised blocks (ggml/src/ggml-common.h). Rows of a
// quantised tensor are arrays of these, packed back to back with no padding,
// so every struct here must have exactly ggml's size and alignment-free
// layout (all members are byte arrays or 16-bit halves; nothing needs padding).
// Halves (`uint16_t` fields named d, m, s, dmin) hold IEEE f16 bits.
#include <cstddef>
#include <cstdint>

namespace kvscope::quant {

constexpr int kQK4_0 = 32;
constexpr int kQK4_1 = 32;
constexpr int kQK5_0 = 32;
constexpr int kQK5_1 = 32;
constexpr int kQK8_0 = 32;
constexpr int kQK8_1 = 32;
constexpr int kQK_K = 256;     // super-block of the K-quants
constexpr int kKScaleBytes = 12;  // 8 six-bit scales + 8 six-bit mins

// Q4_0: 32 weights, y = (q - 8) * d. qs[j] low nibble = element j, high nibble = element j + 16.
struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q4_1: 32 weights, y = q * d + m. Same nibble order as Q4_0.
struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// Q5_0: 32 weights, y = (q - 16) * d with q = nibble + 16 · fifth bit. Nibbles
// as Q4_0's; bit j of the little-endian 32-bit qh is element j's fifth bit.
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: 32 weights, y = q * d + m, q as Q5_0's.
struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// Element j's fifth bit (0 or 1) of a Q5_0/Q5_1 block.
inline int q5_high_bit(const uint8_t* qh, int j) { return (qh[j / 8] >> (j % 8)) & 1; }

// Q8_0: 32 weights, y = qs[i] * d.
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q8_1 (activations only): as Q8_0 plus s = d * sum(qs), so that the Q4_1
// minimum term m * sum(x) costs one multiply per block.
struct BlockQ8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

// Q4_K: 256 weights in 8 sub-blocks of 32, each with a 6-bit scale and min
// packed into scales[12] (see scale_min_k4). qs: 4 chunks of 32 bytes; chunk c
// holds sub-block 2c in its low nibbles and sub-block 2c+1 in its high nibbles.
struct BlockQ4_K {
    uint16_t d;     // scale of the 6-bit scales
    uint16_t dmin;  // scale of the 6-bit mins
    uint8_t scales[kKScaleBytes];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: Q4_K plus a fifth bit per weight: bit 2c of qh[l] belongs to element
// l of sub-block 2c, bit 2c+1 to element l of sub-block 2c+1.
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[kKScaleBytes];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 256 weights in 16 sub-blocks of 16, each with a signed 8-bit scale.
// Two halves of 128: low 4 bits in ql (64 bytes per half), high 2 bits in qh
// (32 bytes per half); value = ((lo | hi << 4) - 32) * d * scale.
struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Q8_K (activations only): float scale, 256 int8 values, and the sums of each
// group of 16 values (used for the K-quant minimum terms).
struct BlockQ8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block
// (ggml's get_scale_min_k4): j < 4 keeps them in the low 6 bits of bytes j
// and j+4; j >= 4 splits them into a nibble of byte j+4 and the top two bits
// of bytes j-4 (scale) and j (min).
inline void scale_min_k4(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

}  // namespace kvscope::quant
