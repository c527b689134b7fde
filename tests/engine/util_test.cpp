#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <numeric>

#include "backend/cpu/cpu_ops.h"
#include "util/fp16.h"
#include "util/thread_pool.h"

using namespace kvscope;

TEST(Fp16, ExactValuesAndRounding) {
    EXPECT_EQ(f32_to_fp16(1.0f), 0x3c00);
    EXPECT_EQ(f32_to_fp16(-2.0f), 0xc000);
    EXPECT_EQ(f32_to_fp16(65504.0f), 0x7bff);
    EXPECT_EQ(f32_to_fp16(1e6f), 0x7c00);             // overflow -> inf
    EXPECT_EQ(f32_to_fp16(5.9604645e-8f), 0x0001);    // smallest subnormal
    EXPECT_EQ(fp16_to_f32(0x3555), 0.333251953125f);
    // 1 + 2^-11 is halfway between 1 and the next half: ties to even (1.0).
    EXPECT_EQ(f32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(f32_to_fp16(fp16_to_f32(static_cast<uint16_t>(h))), h);
}

TEST(Bf16, RoundTrip) {
    EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.5f)), 1.5f);
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
}

TEST(ThreadPool, CoversEveryIndexOnce) {
    for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        for (int64_t n : {0, 1, 7, 100, 1001}) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
            pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
                for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
            });
            for (auto& h : hits) EXPECT_EQ(h.load(), 1);
        }
    }
}

TEST(ThreadPool, AlignedChunksNeverSplitAGrain) {
    ThreadPool pool(3);
    std::atomic<int> bad{0};
    pool.parallel_for_aligned(1000, 32, [&](int64_t b, int64_t e, int) {
        if (b % 32 != 0 || (e % 32 != 0 && e != 1000)) bad++;
    });
    EXPECT_EQ(bad.load(), 0);
}

TEST(ThreadPool, AFastThreadTakesTheChunksASlowOneLeaves) {
    // A thread slowed by its neighbours (here: one that sleeps in every chunk
    // it takes) must not hold up the job: the other threads take the rest.
    ThreadPool pool(2);
    std::atomic<int64_t> by_caller{0}, by_worker{0};
    pool.parallel_for(8, [&](int64_t b, int64_t e, int thread) {
        if (thread == 1) {
            by_worker += e - b;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        } else {
            by_caller += e - b;
        }
    });
    EXPECT_EQ(by_caller.load() + by_worker.load(), 8);
    EXPECT_LE(by_worker.load(), 2) << "the sleeping thread took more than one chunk of 1 or 2 items";
    EXPECT_GE(by_caller.load(), 6);
}

TEST(ThreadPool, CutsAJobIntoAFewChunksPerThread) {
    ThreadPool pool(3);
    std::atomic<int> chunks{0};
    pool.parallel_for(1000, [&](int64_t b, int64_t e, int) {
        EXPECT_LT(b, e);
        chunks++;
    });
    EXPECT_EQ(chunks.load(), 3 * ThreadPool::kChunksPerThread);
}

TEST(ThreadPool, RefusesZeroThreads) { EXPECT_THROW(ThreadPool(0), std::exception); }

TEST(CpuOps, RmsNormMatchesDefinition) {
    const float x[4] = {1, -2, 3, -4};
    const float w[4] = {1, 1, 2, 0.5f};
    float y[4];
    cpu::rms_norm(x, w, y, 4, 1e-5f);
    const float s = 1.0f / std::sqrt((1 + 4 + 9 + 16) / 4.0f + 1e-5f);
    EXPECT_NEAR(y[0], 1 * s, 1e-6);
    EXPECT_NEAR(y[2], 3 * s * 2, 1e-6);
    EXPECT_NEAR(y[3], -4 * s * 0.5f, 1e-6);
}

TEST(CpuOps, RopeRotatesPairsByPositionAngles) {
    const int32_t dim = 8;
    float cs[4], sn[4];
    cpu::rope_angles(3, dim, 10000.0f, cs, sn);
    for (int i = 0; i < 4; ++i) {
        const double theta = 3.0 * std::pow(10000.0, -2.0 * i / dim);
        EXPECT_NEAR(cs[i], std::cos(theta), 1e-5);
        EXPECT_NEAR(sn[i], std::sin(theta), 1e-5);
    }
    float normal[8] = {1, 2, 3, 4, 5, 6, 7, 8}, neox[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cpu::rope_apply(normal, dim, RopeLayout::Normal, cs, sn);
    cpu::rope_apply(neox, dim, RopeLayout::Neox, cs, sn);
    // Normal: (x0, x1) is the first pair; NeoX: (x0, x4).
    EXPECT_NEAR(normal[0], 1 * cs[0] - 2 * sn[0], 1e-6);
    EXPECT_NEAR(normal[1], 1 * sn[0] + 2 * cs[0], 1e-6);
    EXPECT_NEAR(neox[0], 1 * cs[0] - 5 * sn[0], 1e-6);
    EXPECT_NEAR(neox[4], 1 * sn[0] + 5 * cs[0], 1e-6);
    // Rotation keeps the norm of each pair.
    EXPECT_NEAR(normal[6] * normal[6] + normal[7] * normal[7], 49 + 64, 1e-3);
    float zero_pos[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cpu::rope_angles(0, dim, 10000.0f, cs, sn);
    cpu::rope_apply(zero_pos, dim, RopeLayout::Normal, cs, sn);
    EXPECT_EQ(zero_pos[1], 2.0f);
}

// Llama 3's rope_freqs divide each pair's angle before cos/sin (ggml_rope_cache_init);
// factors of 1 change nothing, bit for bit.
TEST(CpuOps, RopeFrequencyFactorsDivideTheAngles) {
    const int32_t dim = 8;
    const float factors[4] = {1.0f, 2.0f, 4.5f, 8.0f}, ones[4] = {1, 1, 1, 1};
    float cs[4], sn[4], plain_c[4], plain_s[4], one_c[4], one_s[4];
    cpu::rope_angles(37, dim, 500000.0f, cs, sn, factors);
    cpu::rope_angles(37, dim, 500000.0f, plain_c, plain_s);
    cpu::rope_angles(37, dim, 500000.0f, one_c, one_s, ones);
    float theta = 37.0f;
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(cs[i], std::cos(theta / factors[i])) << i;
        EXPECT_EQ(sn[i], std::sin(theta / factors[i])) << i;
        EXPECT_EQ(one_c[i], plain_c[i]);
        EXPECT_EQ(one_s[i], plain_s[i]);
        theta *= std::pow(500000.0f, -2.0f / dim);
    }
    EXPECT_NE(cs[3], plain_c[3]);
}

