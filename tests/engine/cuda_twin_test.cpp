// The host/device twins of the CUDA kernels (kernels/twin/*.h), compiled here
// with g++ and checked against the engine's CPU code, so that what the GPU
// tests hold each kernel to is right itself: f16 conversion and dequantisation
// bit for bit, RoPE bit for bit on the host, q8_1 quantisation within half a
// step, the integer dot products within float rounding of the exact dot of
// what they quantised, and close to the CPU backend's own dot products.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/vec_dot.h"
#include "kernels/twin/q8_1.h"
#include "kernels/twin/rope.h"
#include "kernels/twin/softmax.h"
#include "kernels/twin/vec_dot_q8_1.h"
#include "quant/quant.h"
#include "quant/quantize_activation.h"
#include "util/fp16.h"

namespace kvscope {
namespace {

using namespace kvscope::quant;

// Random bytes as blocks of `t`, with scales that are ordinary numbers.
std::vector<uint8_t> random_row(TensorType t, int64_t n, std::mt19937& rng) {
    std::vector<uint8_t> row(row_bytes(t, n));
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
    std::uniform_real_distribution<float> scale(0.001f, 0.05f);
    const TensorTypeInfo& info = tensor_type_info(t);
    for (int64_t blk = 0; blk < n / info.block_elems; ++blk) {
        uint8_t* p = row.data() + blk * info.block_bytes;
        auto set_half = [&](size_t offset) {
            const uint16_t h = f32_to_fp16(scale(rng));
            std::memcpy(p + offset, &h, 2);
        };
        switch (t) {
            case TensorType::Q4_0: case TensorType::Q5_0: case TensorType::Q8_0: set_half(0); break;
            case TensorType::Q4_1: case TensorType::Q5_1: set_half(0); set_half(2); break;
            case TensorType::Q4_K: case TensorType::Q5_K: set_half(0); set_half(2); break;
            case TensorType::Q6_K: set_half(offsetof(BlockQ6_K, d)); break;
            default: break;
        }
    }
    return row;
}

float twin_dequant(TensorType t, const uint8_t* row, int64_t i) {
    switch (t) {
        case TensorType::Q4_0: return twin::dequant_q4_0(reinterpret_cast<const BlockQ4_0*>(row)[i / 32], static_cast<int>(i % 32));
        case TensorType::Q4_1: return twin::dequant_q4_1(reinterpret_cast<const BlockQ4_1*>(row)[i / 32], static_cast<int>(i % 32));
        case TensorType::Q5_0: return twin::dequant_q5_0(reinterpret_cast<const BlockQ5_0*>(row)[i / 32], static_cast<int>(i % 32));
        case TensorType::Q5_1: return twin::dequant_q5_1(reinterpret_cast<const BlockQ5_1*>(row)[i / 32], static_cast<int>(i % 32));
        case TensorType::Q8_0: return twin::dequant_q8_0(reinterpret_cast<const BlockQ8_0*>(row)[i / 32], static_cast<int>(i % 32));
        case TensorType::Q4_K: return twin::dequant_q4_K(reinterpret_cast<const BlockQ4_K*>(row)[i / 256], static_cast<int>(i % 256));
        case TensorType::Q5_K: return twin::dequant_q5_K(reinterpret_cast<const BlockQ5_K*>(row)[i / 256], static_cast<int>(i % 256));
        case TensorType::Q6_K: return twin::dequant_q6_K(reinterpret_cast<const BlockQ6_K*>(row)[i / 256], static_cast<int>(i % 256));
        default: return NAN;
    }
}

// The twin's dot of a weight row with a q8_1-quantised activation.
float twin_dot(TensorType t, const uint8_t* row, const std::vector<BlockQ8_1>& x, int64_t n) {
    float s = 0.0f;
    switch (t) {
        case TensorType::Q4_0:
            for (int64_t b = 0; b < n / 32; ++b) s += twin::vec_dot_q4_0_q8_1(reinterpret_cast<const BlockQ4_0*>(row)[b], x[b]);
            break;
        case TensorType::Q4_1:
            for (int64_t b = 0; b < n / 32; ++b) s += twin::vec_dot_q4_1_q8_1(reinterpret_cast<const BlockQ4_1*>(row)[b], x[b]);
            break;
        case TensorType::Q5_0:
            for (int64_t b = 0; b < n / 32; ++b) s += twin::vec_dot_q5_0_q8_1(reinterpret_cast<const BlockQ5_0*>(row)[b], x[b]);
            break;
        case TensorType::Q5_1:
            for (int64_t b = 0; b < n / 32; ++b) s += twin::vec_dot_q5_1_q8_1(reinterpret_cast<const BlockQ5_1*>(row)[b], x[b]);
            break;
        case TensorType::Q8_0:
            for (int64_t b = 0; b < n / 32; ++b) s += twin::vec_dot_q8_0_q8_1(reinterpret_cast<const BlockQ8_0*>(row)[b], x[b]);
            break;
        case TensorType::Q4_K:
            for (int64_t b = 0; b < n / 256; ++b)
                s += twin::vec_dot_q4_K_q8_1(reinterpret_cast<const BlockQ4_K*>(row)[b], x.data() + 8 * b);
            break;
        case TensorType::Q5_K:
            for (int64_t b = 0; b < n / 256; ++b)
                s += twin::vec_dot_q5_K_q8_1(reinterpret_cast<const BlockQ5_K*>(row)[b], x.data() + 8 * b);
            break;
        case TensorType::Q6_K:
            for (int64_t b = 0; b < n / 256; ++b)
                s += twin::vec_dot_q6_K_q8_1(reinterpret_cast<const BlockQ6_K*>(row)[b], x.data() + 8 * b);
            break;
        default: break;
    }
    return s;
}

constexpr TensorType kQuantTypes[] = {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                      TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

TEST(CudaTwin, HalfConversionsMatchTheEngineBitForBit) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float a = twin::half_to_float(static_cast<uint16_t>(h)), b = fp16_to_f32(static_cast<uint16_t>(h));
        if (std::isnan(b)) EXPECT_TRUE(std::isnan(a));
        else EXPECT_EQ(a, b) << h;
    }
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> mag(-30.0f, 17.0f);
    for (int i = 0; i < 200000; ++i) {
        const float f = std::ldexp(1.0f + static_cast<float>(i % 997) / 997.0f, static_cast<int>(mag(rng))) * (i % 2 ? -1.0f : 1.0f);
        EXPECT_EQ(twin::float_to_half(f), f32_to_fp16(f)) << f;
    }
    EXPECT_EQ(twin::bf16_to_float(f32_to_bf16(3.5f)), 3.5f);
}

TEST(CudaTwin, Dp4aFallbackIsTheSignedByteDot) {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> b(-128, 127);
    for (int i = 0; i < 10000; ++i) {
        int8_t a[4], c[4];
        int want = 17;
        for (int k = 0; k < 4; ++k) {
            a[k] = static_cast<int8_t>(b(rng));
            c[k] = static_cast<int8_t>(b(rng));
            want += a[k] * c[k];
        }
        EXPECT_EQ(twin::dp4a(twin::load_int(a), twin::load_int(c), 17), want);
    }
}

TEST(CudaTwin, DequantisationMatchesTheEngineBitForBit) {
    std::mt19937 rng(11);
    for (TensorType t : kQuantTypes) {
        const int64_t n = 512;
        const auto row = random_row(t, n, rng);
        std::vector<float> want(n);
        dequantize_row(t, row.data(), want.data(), n);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(twin_dequant(t, row.data(), i), want[i]) << tensor_type_name(t) << " " << i;
    }
}

TEST(CudaTwin, Q8_1QuantisationIsWithinHalfAStepOfItsF16Scale) {
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.0f, 2.0f);
    for (int blk = 0; blk < 500; ++blk) {
        float x[32];
        for (float& v : x) v = g(rng) * (blk % 7 == 0 ? 0.0f : 1.0f);
        BlockQ8_1 q;
        twin::quantize_block_q8_1(x, q);
        const float d = twin::half_to_float(q.d);
        int sum = 0;
        for (int j = 0; j < 32; ++j) {
            // Half a step, plus up to 127 times the rounding of d to f16 (2^-11 relative).
            EXPECT_LE(std::fabs(static_cast<float>(q.qs[j]) * d - x[j]), d * (0.5f + 127.0f / 2048.0f) + 1e-6f);
            sum += q.qs[j];
        }
        EXPECT_NEAR(twin::half_to_float(q.s), d * static_cast<float>(sum), std::fabs(d * sum) * 1e-3f + 1e-6f);
    }
}

// Each integer dot equals the exact dot of the dequantised weights with the
// dequantised activation (up to float rounding), and stays close to the CPU
// backend's dot product (which quantises the activation its own way).
TEST(CudaTwin, IntegerDotsMatchTheDequantisedDotAndTheCpu) {
    std::mt19937 rng(13);
    std::normal_distribution<float> g(0.0f, 1.0f);
    for (TensorType t : kQuantTypes) {
        const int64_t n = 1024;
        double err_cpu = 0, ref_sq = 0;
        for (int trial = 0; trial < 40; ++trial) {
            const auto row = random_row(t, n, rng);
            std::vector<float> x(n);
            for (float& v : x) v = g(rng);
            std::vector<BlockQ8_1> xq(n / 32);
            for (int64_t b = 0; b < n / 32; ++b) twin::quantize_block_q8_1(x.data() + 32 * b, xq[b]);
            std::vector<float> w(n);
            dequantize_row(t, row.data(), w.data(), n);
            double exact = 0, scale = 0;  // the dequantised weights · the dequantised activation
            for (int64_t i = 0; i < n; ++i) {
                const double xd = static_cast<double>(xq[i / 32].qs[i % 32]) * twin::half_to_float(xq[i / 32].d);
                exact += w[i] * xd;
                scale += std::fabs(w[i] * xd);
            }
            const float got = twin_dot(t, row.data(), xq, n);
            // The minimum terms use s = d·Σq rounded to f16: a relative 1e-3 of the block sums.
            EXPECT_NEAR(got, exact, 2e-3 * scale + 1e-4) << tensor_type_name(t) << " trial " << trial;
            QuantizedVector cpu_x;
            quantize_for_dot(t, x.data(), n, cpu_x);
            const double cpu = vec_dot(t, row.data(), cpu_x);
            err_cpu += (got - cpu) * (got - cpu);
            ref_sq += cpu * cpu;
        }
        // llama.cpp's test-backend-ops bound for mat-vec between backends: normalised MSE 5e-4.
        EXPECT_LT(err_cpu / ref_sq, 5e-4) << tensor_type_name(t);
    }
}

// The q8_0 KV cache's blocks as the CPU stores them, bit for bit.
TEST(CudaTwin, Q8_0KvBlocksMatchTheCpuBitForBit) {
    std::mt19937 rng(9);
    std::normal_distribution<float> g(0.0f, 3.0f);
    for (int blk = 0; blk < 2000; ++blk) {
        float x[32];
        for (float& v : x) v = blk % 50 == 0 ? 0.0f : g(rng);
        if (blk % 13 == 0) x[5] = 127.0f * 0.5f / 63.5f;  // values landing on .5 steps
        BlockQ8_0 twin_block, cpu_block;
        twin::quantize_block_q8_0(x, twin_block);
        quantize_row_q8_0(x, &cpu_block, 32);
        ASSERT_EQ(twin_block.d, cpu_block.d) << blk;
        for (int j = 0; j < 32; ++j) ASSERT_EQ(twin_block.qs[j], cpu_block.qs[j]) << blk << " " << j;
    }
}

TEST(CudaTwin, RopeMatchesTheCpuOnTheHost) {
    for (int position : {0, 1, 17, 4095, 8191}) {
        const int dim = 64;
        float cs[32], sn[32];
        cpu::rope_angles(position, dim, 100000.0f, cs, sn);
        for (int i = 0; i < dim / 2; ++i) {
            float c, s;
            twin::rope_angle(position, i, dim, 100000.0f, c, s);
            EXPECT_EQ(c, cs[i]) << position << " " << i;
            EXPECT_EQ(s, sn[i]) << position << " " << i;
        }
        for (bool neox : {false, true}) {
            float head[64], want[64];
            for (int d = 0; d < 64; ++d) head[d] = want[d] = 0.1f * static_cast<float>(d - 20);
            cpu::rope_apply(want, dim, neox ? RopeLayout::Neox : RopeLayout::Normal, cs, sn);
            for (int i = 0; i < dim / 2; ++i) twin::rope_rotate_pair(head, i, dim, neox, cs[i], sn[i]);
            for (int d = 0; d < 64; ++d) EXPECT_EQ(head[d], want[d]);
        }
    }
}

TEST(CudaTwin, SoftmaxNormAndSwiGluMatchTheirDefinitions) {
    float x[5] = {1000.0f, 1001.0f, 999.0f, -INFINITY, 1000.5f};
    twin::softmax(x, 5);
    double sum = 0;
    for (float v : x) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-6);
    EXPECT_EQ(x[3], 0.0f);
    EXPECT_NEAR(x[1] / x[0], std::exp(1.0), 1e-5);
    const float in[4] = {1, -2, 3, -4}, w[4] = {1, 1, 2, 0.5f};
    float y[4];
    twin::rms_norm_row(in, w, y, 4, 1e-5f);
    const double r = 1.0 / std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-5);
    EXPECT_NEAR(y[2], 3 * r * 2, 1e-6);
    EXPECT_NEAR(twin::swiglu(2.0f, 3.0f), 2.0 / (1 + std::exp(-2.0)) * 3, 1e-6);
}

}  // namespace
}  // namespace kvscope
