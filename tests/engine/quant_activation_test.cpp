// quantize_for_dot (Q8_0 / Q8_1 / Q8_K / F16 / BF16 / F32 activations) and row_bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/block_types.h"
#include "quant/quant.h"
#include "quant/quantize_activation.h"
#include "util/simd_level.h"
#include "util/error.h"
#include "util/fp16.h"

namespace kvscope {
namespace {

using quant::BlockQ8_0;
using quant::BlockQ8_1;
using quant::BlockQ8_K;

std::vector<float> iota_floats(int n, float start) {
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = start + static_cast<float>(i);
    return x;
}

TEST(QuantActivation, Q8_0KnownValues) {
    const auto x = iota_floats(32, 0.f);  // amax 31
    QuantizedVector q;
    quantize_for_dot(TensorType::Q8_0, x.data(), 32, q);
    ASSERT_EQ(q.type, TensorType::Q8_0);
    ASSERT_EQ(q.bytes.size(), 34u);
    const auto* b = reinterpret_cast<const BlockQ8_0*>(q.bytes.data());
    EXPECT_EQ(b->d, f32_to_fp16(31.f / 127.f));
    EXPECT_NEAR(fp16_to_f32(b->d), 31.0 / 127.0, 31.0 / 127.0 * 0x1p-11);
    // j * 127/31 is never within 0.01 of a half, so plain rounding gives the answer.
    for (int j = 0; j < 32; ++j) EXPECT_EQ(b->qs[j], std::lround(j * 127.0 / 31.0)) << j;
}

TEST(QuantActivation, Q8_1KnownValuesAndSum) {
    const auto x = iota_floats(32, -16.f);  // -16..15, amax 16
    QuantizedVector q;
    quantize_for_dot(TensorType::Q4_1, x.data(), 32, q);
    ASSERT_EQ(q.type, TensorType::Q8_1);
    const auto* b = reinterpret_cast<const BlockQ8_1*>(q.bytes.data());
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
        const double v = (j - 16) * 127.0 / 16.0;  // ties at v = k + 0.5 go to even
        const double r = std::nearbyint(v);
        EXPECT_EQ(b->qs[j], static_cast<int>(r)) << j;
        sum += b->qs[j];
    }
    const float d = 16.f / 127.f;
    EXPECT_EQ(b->d, f32_to_fp16(d));
    EXPECT_EQ(b->s, f32_to_fp16(d * static_cast<float>(sum)));  // s uses the f32 d, not the rounded one
}

TEST(QuantActivation, Q8RoundsHalfToEven) {
    // amax = 127 gives scale 1, so x * 127/amax = x exactly and the halves are real ties.
    std::vector<float> x(32, 0.f);
    x[0] = 127.f;
    const float halves[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 126.5f};
    const int expected[] = {0, 2, 2, 0, -2, -2, 4, 126};
    for (int i = 0; i < 8; ++i) x[1 + i] = halves[i];
    BlockQ8_0 s{};
    quant::scalar::quantize_row_q8_0(x.data(), &s, 32);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(s.qs[1 + i], expected[i]) << halves[i];
#if KVSCOPE_X86_SIMD
    if (simd_level_runs_here(SimdLevel::Avx2)) {
        BlockQ8_0 a{};
        quant::avx2::quantize_row_q8_0(x.data(), &a, 32);
        EXPECT_EQ(std::memcmp(&a, &s, sizeof a), 0);
    }
#endif
}

TEST(QuantActivation, Q8_KKnownValues) {
    const auto x = iota_floats(256, -100.f);  // -100..155; largest magnitude is +155
    QuantizedVector q;
    quantize_for_dot(TensorType::Q6_K, x.data(), 256, q);
    ASSERT_EQ(q.type, TensorType::Q8_K);
    ASSERT_EQ(q.bytes.size(), 292u);
    const auto* b = reinterpret_cast<const BlockQ8_K*>(q.bytes.data());
    // The signed extreme maps to -127 (ggml's convention), so d is negative.
    EXPECT_FLOAT_EQ(b->d, -155.f / 127.f);
    for (int j = 0; j < 256; ++j) {
        const long expected = std::min(127L, std::lround(-127.0 * (j - 100) / 155.0));  // 155 is odd: no ties
        ASSERT_EQ(b->qs[j], expected) << j;
    }
    for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += b->qs[16 * g + l];
        EXPECT_EQ(b->bsums[g], sum) << g;
    }
}

TEST(QuantActivation, ZeroBlocks) {
    std::vector<float> x(256, 0.f);
    for (TensorType t : {TensorType::Q8_0, TensorType::Q4_1, TensorType::Q4_K}) {
        QuantizedVector q;
        quantize_for_dot(t, x.data(), 256, q);
        if (q.type == TensorType::Q8_K) {
            const auto* b = reinterpret_cast<const BlockQ8_K*>(q.bytes.data());
            EXPECT_EQ(b->d, 0.f);
            for (int j = 0; j < 256; ++j) EXPECT_EQ(b->qs[j], 0);
        } else {
            for (uint8_t byte : q.bytes) EXPECT_EQ(byte, 0) << tensor_type_name(q.type);
        }
    }
}

// |x - q*d| <= d/2 up to the rounding of d itself: Q8_0/Q8_1 store d as f16
// (relative error <= 2^-11, times |q| <= 127); Q8_K keeps it in f32.
TEST(QuantActivation, RoundTripErrorBound) {
    std::mt19937 rng(42);
    std::normal_distribution<float> nd(0.f, 3.f);
    std::vector<float> x(1024);
    for (auto& v : x) v = nd(rng);
    for (TensorType w : {TensorType::Q8_0, TensorType::Q4_1, TensorType::Q5_K}) {
        QuantizedVector q;
        quantize_for_dot(w, x.data(), 1024, q);
        for (int i = 0; i < 1024; ++i) {
            double d, xq, slack;
            if (q.type == TensorType::Q8_K) {
                const auto& b = reinterpret_cast<const BlockQ8_K*>(q.bytes.data())[i / 256];
                d = std::fabs(b.d);
                xq = double(b.qs[i % 256]) * b.d;
                slack = 1e-6 * d;
            } else {
                // Q8_0 and Q8_1 share the qs layout after their 2 (resp. 4) header bytes.
                const size_t bb = q.type == TensorType::Q8_0 ? 34 : 36;
                const uint8_t* blk = q.bytes.data() + bb * (i / 32);
                uint16_t dh;
                std::memcpy(&dh, blk, 2);
                d = fp16_to_f32(dh);
                const auto qv = static_cast<int8_t>(blk[bb - 32 + i % 32]);
                xq = qv * d;
                slack = 127 * d * 0x1p-11;
            }
            ASSERT_LE(std::fabs(x[i] - xq), d / 2 + slack) << tensor_type_name(q.type) << " " << i;
        }
    }
}

TEST(QuantActivation, Avx2BytesEqualScalar) {
#if KVSCOPE_X86_SIMD
    if (!simd_level_runs_here(SimdLevel::Avx2)) GTEST_SKIP() << "AVX2 does not run here: " << simd_report();
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(4096);
    for (auto& v : x) v = nd(rng);
    // Exact ties too: blocks whose amax is 127 with half-integer values.
    for (int i = 0; i < 32; ++i) x[i] = i == 0 ? -127.f : static_cast<float>(i % 9) - 4.5f;
    std::vector<BlockQ8_0> a0(128), s0(128);
    quant::avx2::quantize_row_q8_0(x.data(), a0.data(), 4096);
    quant::scalar::quantize_row_q8_0(x.data(), s0.data(), 4096);
    EXPECT_EQ(std::memcmp(a0.data(), s0.data(), a0.size() * sizeof a0[0]), 0);
    std::vector<BlockQ8_1> a1(128), s1(128);
    quant::avx2::quantize_row_q8_1(x.data(), a1.data(), 4096);
    quant::scalar::quantize_row_q8_1(x.data(), s1.data(), 4096);
    EXPECT_EQ(std::memcmp(a1.data(), s1.data(), a1.size() * sizeof a1[0]), 0);
    // f16 conversion (F16C against the portable rounding), with a tail and specials.
    x[5] = 65520.f;  // rounds to inf
    x[6] = 1e-8f;    // subnormal f16
    x[7] = -0.f;
    std::vector<uint16_t> ah(4093), sh(4093);
    quant::avx2::convert_row_f16(x.data(), ah.data(), 4093);
    for (size_t i = 0; i < sh.size(); ++i) sh[i] = f32_to_fp16(x[i]);
    EXPECT_EQ(ah, sh);
#else
    GTEST_SKIP() << "this build has no x86 SIMD kernels";
#endif
}

TEST(QuantActivation, FloatActivations) {
    const std::vector<float> x = {1.f, -2.5f, 1e-8f, 65504.f, 3.14159f};
    QuantizedVector q;
    quantize_for_dot(TensorType::F32, x.data(), 5, q);
    EXPECT_EQ(q.type, TensorType::F32);
    EXPECT_EQ(std::memcmp(q.bytes.data(), x.data(), 20), 0);

    std::vector<float> x16(19);
    for (int i = 0; i < 19; ++i) x16[i] = 0.1f * static_cast<float>(i) - 0.7f;  // 19: SIMD part + tail
    quantize_for_dot(TensorType::F16, x16.data(), 19, q);
    EXPECT_EQ(q.type, TensorType::F16);
    for (int i = 0; i < 19; ++i) {
        uint16_t h;
        std::memcpy(&h, q.bytes.data() + 2 * i, 2);
        EXPECT_EQ(h, f32_to_fp16(x16[i])) << i;
    }
    quantize_for_dot(TensorType::BF16, x.data(), 5, q);
    EXPECT_EQ(q.type, TensorType::BF16);
    for (int i = 0; i < 5; ++i) {
        uint16_t h;
        std::memcpy(&h, q.bytes.data() + 2 * i, 2);
        EXPECT_EQ(h, f32_to_bf16(x[i])) << i;
    }
}

TEST(QuantRowBytes, Sizes) {
    EXPECT_EQ(row_bytes(TensorType::F32, 3), 12u);
    EXPECT_EQ(row_bytes(TensorType::F16, 5), 10u);
    EXPECT_EQ(row_bytes(TensorType::BF16, 0), 0u);
    EXPECT_EQ(row_bytes(TensorType::Q4_0, 64), 36u);
    EXPECT_EQ(row_bytes(TensorType::Q4_1, 576), 18u * 20);
    EXPECT_EQ(row_bytes(TensorType::Q8_0, 576), 18u * 34);
    EXPECT_EQ(row_bytes(TensorType::Q8_1, 32), 36u);
    EXPECT_EQ(row_bytes(TensorType::Q4_K, 512), 288u);
    EXPECT_EQ(row_bytes(TensorType::Q5_K, 256), 176u);
    EXPECT_EQ(row_bytes(TensorType::Q6_K, 512), 420u);
    EXPECT_EQ(row_bytes(TensorType::Q8_K, 256), 292u);
    EXPECT_EQ(row_bytes(TensorType::Q5_0, 32), 22u);
    EXPECT_EQ(row_bytes(TensorType::Q5_1, 64), 48u);
    EXPECT_EQ(row_bytes(TensorType::IQ4_NL, 32), 18u);  // sizable even though not computable
}

TEST(QuantRowBytes, Errors) {
    EXPECT_THROW(row_bytes(TensorType::Q4_0, 33), Error);
    EXPECT_THROW(row_bytes(TensorType::Q6_K, 128), Error);
    EXPECT_THROW(row_bytes(TensorType::F32, -1), Error);
    EXPECT_THROW(row_bytes(static_cast<TensorType>(4), 32), Error);  // removed ggml type id
    try {
        row_bytes(TensorType::Q8_0, 40);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("Q8_0"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace kvscope
