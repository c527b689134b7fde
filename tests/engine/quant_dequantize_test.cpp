// dequantize_row on hand-built blocks: every block's bytes are written out
// explicitly and the expected floats come from the REFERENCE.md formulas,
// evaluated here independently of the engine's code. Scales are chosen so
// that every expected value is exactly representable (so FMA contraction or
// evaluation order cannot change the result).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "quant/quant.h"
#include "util/error.h"

namespace kvscope {
namespace {

// f16 bit patterns of a few exact values.
constexpr uint16_t kH_0_25 = 0x3400, kH_0_5 = 0x3800, kH_1 = 0x3C00, kH_2 = 0x4000, kH_m3 = 0xC200;

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v & 0xFF);
    b[at + 1] = static_cast<uint8_t>(v >> 8);
}

std::vector<float> dequant(TensorType t, const std::vector<uint8_t>& bytes, int64_t n) {
    std::vector<float> y(static_cast<size_t>(n), -12345.f);
    dequantize_row(t, bytes.data(), y.data(), n);
    return y;
}

TEST(QuantDequantize, F32F16BF16) {
    const float f[3] = {1.5f, -0.0f, 3.25e-5f};
    std::vector<uint8_t> b(sizeof f);
    std::memcpy(b.data(), f, sizeof f);
    EXPECT_EQ(dequant(TensorType::F32, b, 3), std::vector<float>(f, f + 3));

    // 1, -2, 65504 (largest half), 2^-24 (smallest subnormal), 0.5
    const uint16_t h[5] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3800};
    std::vector<uint8_t> hb(sizeof h);
    std::memcpy(hb.data(), h, sizeof h);
    EXPECT_EQ(dequant(TensorType::F16, hb, 5), (std::vector<float>{1.f, -2.f, 65504.f, 0x1p-24f, 0.5f}));

    const uint16_t bf[3] = {0x3F80, 0xC040, 0x4049};  // 1, -3, 3.140625
    std::vector<uint8_t> bb(sizeof bf);
    std::memcpy(bb.data(), bf, sizeof bf);
    EXPECT_EQ(dequant(TensorType::BF16, bb, 3), (std::vector<float>{1.f, -3.f, 3.140625f}));
}

TEST(QuantDequantize, Q4_0) {
    // Two blocks: d = 0.5 and d = 2; qs[j] = j (low nibble) | (15 - j) << 4.
    std::vector<uint8_t> b(2 * 18);
    const uint16_t ds[2] = {kH_0_5, kH_2};
    const float dv[2] = {0.5f, 2.f};
    for (int blk = 0; blk < 2; ++blk) {
        put16(b, 18 * blk, ds[blk]);
        for (int j = 0; j < 16; ++j) b[18 * blk + 2 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
    }
    const auto y = dequant(TensorType::Q4_0, b, 64);
    for (int blk = 0; blk < 2; ++blk)
        for (int j = 0; j < 16; ++j) {
            EXPECT_EQ(y[32 * blk + j], (j - 8) * dv[blk]) << blk << " " << j;
            EXPECT_EQ(y[32 * blk + j + 16], (15 - j - 8) * dv[blk]) << blk << " " << j;
        }
}

TEST(QuantDequantize, Q4_1) {
    std::vector<uint8_t> b(20);
    put16(b, 0, kH_0_25);
    put16(b, 2, kH_m3);
    for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>((15 - j) | j << 4);
    const auto y = dequant(TensorType::Q4_1, b, 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], (15 - j) * 0.25f - 3.f);
        EXPECT_EQ(y[j + 16], j * 0.25f - 3.f);
    }
}

// Q5_0/Q5_1 blocks packed as ggml's quantize_row_q5_0_ref does it, written
// out here: element j < 16 is the low nibble of qs[j], j >= 16 the high nibble
// of qs[j - 16], and its fifth bit is bit j of the little-endian uint32 qh.
std::vector<uint8_t> pack_q5(size_t header_bytes, const std::array<int, 32>& q) {
    std::vector<uint8_t> b(header_bytes + 4 + 16, 0);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        b[header_bytes + 4 + j] = static_cast<uint8_t>((q[j] & 0xF) | (q[j + 16] & 0xF) << 4);
        qh |= static_cast<uint32_t>((q[j] & 0x10) >> 4) << j;
        qh |= static_cast<uint32_t>((q[j + 16] & 0x10) >> 4) << (j + 16);
    }
    for (int i = 0; i < 4; ++i) b[header_bytes + i] = static_cast<uint8_t>(qh >> (8 * i));
    return b;
}

// 32 five-bit values with every fifth-bit pattern across the qh bytes.
std::array<int, 32> q5_values() {
    std::array<int, 32> q{};
    for (int j = 0; j < 32; ++j) q[j] = (j * 7 + 3) % 32;
    q[0] = 31, q[7] = 16, q[8] = 15, q[31] = 0, q[16] = 17;
    return q;
}

TEST(QuantDequantize, Q5_0) {
    const auto q = q5_values();
    auto b = pack_q5(2, q);
    put16(b, 0, kH_0_5);
    const auto y = dequant(TensorType::Q5_0, b, 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (q[j] - 16) * 0.5f) << j;
}

TEST(QuantDequantize, Q5_1) {
    const auto q = q5_values();
    auto b = pack_q5(4, q);
    put16(b, 0, kH_0_25);
    put16(b, 2, kH_m3);
    const auto y = dequant(TensorType::Q5_1, b, 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], q[j] * 0.25f - 3.f) << j;
}

TEST(QuantDequantize, Q8_0) {
    std::vector<uint8_t> b(34);
    put16(b, 0, kH_2);
    for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128));
    const auto y = dequant(TensorType::Q8_0, b, 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (j * 8 - 128) * 2.f);
}

// 6-bit scales and mins for the 8 sub-blocks; chosen so every packed bit
// position (including the two top bits used by sub-blocks 4..7) is exercised.
constexpr std::array<int, 8> kSc = {1, 63, 17, 42, 5, 60, 33, 48};
constexpr std::array<int, 8> kMn = {2, 7, 61, 0, 63, 11, 40, 22};

// Packs scales/mins into 12 bytes per ggml's layout: bytes 0-3 scale j (low 6
// bits) + top 2 bits of scale j+4; bytes 4-7 min j + top 2 bits of min j+4;
// bytes 8-11 low nibble = scale j+4 low 4 bits, high nibble = min j+4 low 4 bits.
std::array<uint8_t, 12> pack_k_scales() {
    std::array<uint8_t, 12> s{};
    for (int j = 0; j < 4; ++j) {
        s[j] = static_cast<uint8_t>(kSc[j] | (kSc[j + 4] >> 4) << 6);
        s[j + 4] = static_cast<uint8_t>(kMn[j] | (kMn[j + 4] >> 4) << 6);
        s[j + 8] = static_cast<uint8_t>((kSc[j + 4] & 15) | (kMn[j + 4] & 15) << 4);
    }
    return s;
}

// Q4_K/Q5_K: d = 0.5, dmin = 0.25. The element e belongs to sub-block e/32;
// within 64-element chunk c = e/64 the first 32 take low nibbles of
// qs[32c..32c+31], the next 32 the high nibbles.
void check_k4_k5(bool five_bits) {
    const size_t bytes = five_bits ? 176 : 144;
    const size_t qs_at = five_bits ? 48 : 16;
    std::vector<uint8_t> b(bytes);
    put16(b, 0, kH_0_5);
    put16(b, 2, kH_0_25);
    const auto sc = pack_k_scales();
    std::copy(sc.begin(), sc.end(), b.begin() + 4);
    for (int i = 0; i < 128; ++i) b[qs_at + i] = static_cast<uint8_t>(i * 7 + 3);
    if (five_bits)
        for (int l = 0; l < 32; ++l) b[16 + l] = static_cast<uint8_t>(l * 37 + 11);

    const auto y = dequant(five_bits ? TensorType::Q5_K : TensorType::Q4_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int c = e / 64, r = e % 64, j = e / 32, l = e % 32;
        const uint8_t byte = b[qs_at + 32 * c + l];
        int q = r < 32 ? (byte & 15) : (byte >> 4);
        if (five_bits) q += ((b[16 + l] >> j) & 1) * 16;  // bit j of qh[l] is sub-block j's fifth bit
        const double expected = 0.5 * kSc[j] * q - 0.25 * kMn[j];
        ASSERT_EQ(y[e], static_cast<float>(expected)) << "element " << e;
    }
}

TEST(QuantDequantize, Q4_K) { check_k4_k5(false); }
TEST(QuantDequantize, Q5_K) { check_k4_k5(true); }

TEST(QuantDequantize, Q4_KScaleMinPacking) {
    // One sub-block at a time: only sub-block j has a nonzero scale/min, so
    // the output reveals which sub-block each packed field feeds.
    for (int j = 0; j < 8; ++j) {
        std::vector<uint8_t> b(144);
        put16(b, 0, kH_1);
        put16(b, 2, kH_1);
        const int sc = 40 + j, mn = 50 + j;  // both >= 16 and >= 32: use the top bits
        if (j < 4) {
            b[4 + j] = static_cast<uint8_t>(sc);
            b[4 + j + 4] = static_cast<uint8_t>(mn);
        } else {
            b[4 + j - 4] = static_cast<uint8_t>((sc >> 4) << 6);
            b[4 + j] = static_cast<uint8_t>((mn >> 4) << 6);
            b[4 + j + 4] = static_cast<uint8_t>((sc & 15) | (mn & 15) << 4);
        }
        for (int i = 0; i < 128; ++i) b[16 + i] = 0x11;  // every quant = 1
        const auto y = dequant(TensorType::Q4_K, b, 256);
        for (int e = 0; e < 256; ++e) ASSERT_EQ(y[e], e / 32 == j ? static_cast<float>(sc - mn) : 0.f) << j << " " << e;
    }
}

TEST(QuantDequantize, Q6_K) {
    // Two blocks (d = 0.25 and d = -3) so both halves of each block and the
    // block stride are covered. Element e of a block: half h = e/128; within
    // the half, group g = (e%128)/32 and l = e%32 take the low (g = 0, 1) or
    // high (g = 2, 3) nibble of ql[64h + 32(g%2) + l] and bits 2g..2g+1 of
    // qh[32h + l]; the scale is scales[e/16].
    std::vector<uint8_t> b(2 * 210);
    const uint16_t ds[2] = {kH_0_25, kH_m3};
    const float dv[2] = {0.25f, -3.f};
    for (int blk = 0; blk < 2; ++blk) {
        uint8_t* p = b.data() + 210 * blk;
        for (int i = 0; i < 128; ++i) p[i] = static_cast<uint8_t>(i * 13 + 5 + blk);
        for (int i = 0; i < 64; ++i) p[128 + i] = static_cast<uint8_t>(i * 29 + 7 + blk);
        for (int i = 0; i < 16; ++i) p[192 + i] = static_cast<uint8_t>(static_cast<int8_t>(i * 17 - 128 + blk));
        p[208] = static_cast<uint8_t>(ds[blk] & 0xFF);
        p[209] = static_cast<uint8_t>(ds[blk] >> 8);
    }
    const auto y = dequant(TensorType::Q6_K, b, 512);
    for (int blk = 0; blk < 2; ++blk) {
        const uint8_t* p = b.data() + 210 * blk;
        for (int e = 0; e < 256; ++e) {
            const int h = e / 128, g = (e % 128) / 32, l = e % 32;
            const uint8_t lo_byte = p[64 * h + 32 * (g % 2) + l];
            const int lo = g < 2 ? (lo_byte & 15) : (lo_byte >> 4);
            const int hi = (p[128 + 32 * h + l] >> (2 * g)) & 3;
            const int q = (lo | hi << 4) - 32;
            const int scale = static_cast<int8_t>(p[192 + e / 16]);
            ASSERT_EQ(y[256 * blk + e], static_cast<float>(static_cast<double>(dv[blk]) * scale * q)) << blk << " " << e;
        }
    }
}

TEST(QuantDequantize, UnsupportedTypeNamesIt) {
    std::vector<uint8_t> b(34);
    std::vector<float> y(32);
    try {
        dequantize_row(TensorType::IQ4_NL, b.data(), y.data(), 32);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("IQ4_NL"), std::string::npos) << e.what();
    }
    EXPECT_THROW(dequantize_row(TensorType::Q8_0, b.data(), y.data(), 31), Error);
}

}  // namespace
}  // namespace kvscope
