// The quality lab's metrics on hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eval/metrics.h"
#include "util/error.h"

using namespace kvscope;

TEST(EvalMetrics, LogSoftmaxOfTwoEqualLogitsIsLogHalf) {
    const float logits[] = {3.0f, 3.0f};
    const auto ls = log_softmax(logits, 2);
    ASSERT_EQ(ls.size(), 2u);
    EXPECT_NEAR(ls[0], std::log(0.5), 1e-12);
    EXPECT_NEAR(ls[1], std::log(0.5), 1e-12);
}

TEST(EvalMetrics, LogSoftmaxHandComputed) {
    // logits 0, ln 2, ln 5 → probabilities 1/8, 2/8, 5/8.
    const float logits[] = {0.0f, static_cast<float>(std::log(2.0)), static_cast<float>(std::log(5.0))};
    const auto ls = log_softmax(logits, 3);
    EXPECT_NEAR(ls[0], std::log(1.0 / 8), 1e-6);
    EXPECT_NEAR(ls[1], std::log(2.0 / 8), 1e-6);
    EXPECT_NEAR(ls[2], std::log(5.0 / 8), 1e-6);
    EXPECT_NEAR(log_softmax_at(logits, 3, 2), std::log(5.0 / 8), 1e-6);
}

TEST(EvalMetrics, LogSoftmaxIsStableForHugeLogits) {
    const float logits[] = {1000.0f, 1000.0f, -1000.0f};
    const auto ls = log_softmax(logits, 3);
    EXPECT_NEAR(ls[0], std::log(0.5), 1e-12);
    EXPECT_TRUE(std::isfinite(ls[2]));
    EXPECT_NEAR(ls[2], -2000.0 + std::log(0.5), 1e-9);
}

TEST(EvalMetrics, LogSoftmaxRejectsBadArguments) {
    const float logits[] = {1.0f};
    EXPECT_THROW(log_softmax(logits, 0), Error);
    EXPECT_THROW(log_softmax_at(logits, 1, 1), Error);
}

TEST(EvalMetrics, KlOfIdenticalDistributionsIsZero) {
    const float p[] = {0.1f, 2.0f, -3.0f, 0.5f};
    EXPECT_EQ(kl_divergence(p, p, 4), 0.0);
    // Softmax ignores a constant shift.
    const float q[] = {10.1f, 12.0f, 7.0f, 10.5f};
    EXPECT_NEAR(kl_divergence(p, q, 4), 0.0, 1e-12);
}

TEST(EvalMetrics, KlHandComputed) {
    // p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ ln 2 + ½ ln(2/3) = ½ ln(4/3).
    const float p[] = {0.0f, 0.0f};
    const float q[] = {0.0f, static_cast<float>(std::log(3.0))};
    EXPECT_NEAR(kl_divergence(p, q, 2), 0.5 * std::log(4.0 / 3.0), 1e-7);
    // Reversed: KL(q‖p) = ¼ ln(½) + ¾ ln(3/2).
    EXPECT_NEAR(kl_divergence(q, p, 2), 0.25 * std::log(0.5) + 0.75 * std::log(1.5), 1e-7);
}

TEST(EvalMetrics, KlIsFiniteForExtremeLogits) {
    const float p[] = {500.0f, -500.0f};
    const float q[] = {-500.0f, 500.0f};
    const double kl = kl_divergence(p, q, 2);
    EXPECT_TRUE(std::isfinite(kl));
    EXPECT_NEAR(kl, 1000.0, 1e-6);  // p ≈ (1, 0): KL ≈ log p0 − log q0 = 0 − (−1000)
}

TEST(EvalMetrics, CosineOfAlignedRows) {
    const std::vector<int32_t> pos{0, 1, 2};
    const std::vector<float> a{0.2f, 0.3f, 0.5f};
    EXPECT_NEAR(cosine_similarity({pos, a}, {pos, a}), 1.0, 1e-7);
    const std::vector<float> b{1.0f, 0.0f, 0.0f};
    const std::vector<float> c{0.0f, 1.0f, 0.0f};
    EXPECT_NEAR(cosine_similarity({pos, b}, {pos, c}), 0.0, 1e-12);
}

TEST(EvalMetrics, CosineTreatsMissingPositionsAsZero) {
    // Full row over 0..3, policy row over {0, 3} (1 and 2 evicted).
    const std::vector<int32_t> full_pos{0, 1, 2, 3};
    const std::vector<float> full{0.4f, 0.1f, 0.1f, 0.4f};
    const std::vector<int32_t> held_pos{0, 3};
    const std::vector<float> held{0.5f, 0.5f};
    // dot = 0.4·0.5 + 0.4·0.5 = 0.4; |full| = √0.34; |held| = √0.5.
    EXPECT_NEAR(cosine_similarity({full_pos, full}, {held_pos, held}), 0.4 / (std::sqrt(0.34) * std::sqrt(0.5)), 1e-6);
    // Disjoint rows are orthogonal.
    const std::vector<int32_t> other_pos{1, 2};
    EXPECT_NEAR(cosine_similarity({held_pos, held}, {other_pos, held}), 0.0, 1e-12);
}

TEST(EvalMetrics, CosineOfAnEmptyRowIsZeroAndMismatchedSizesThrow) {
    const std::vector<int32_t> pos{0};
    const std::vector<float> p{1.0f};
    EXPECT_EQ(cosine_similarity({pos, p}, {{}, {}}), 0.0);
    const std::vector<float> two{0.5f, 0.5f};
    EXPECT_THROW(cosine_similarity({pos, two}, {pos, p}), Error);
}

TEST(EvalMetrics, EvictedMassSumsWhatIsNotHeld) {
    const std::vector<int32_t> full_pos{0, 1, 2, 3, 4};
    const std::vector<float> full{0.5f, 0.1f, 0.15f, 0.05f, 0.2f};
    EXPECT_NEAR(evicted_mass(full_pos, full, std::vector<int32_t>{0, 3, 4}), 0.25, 1e-7);
    EXPECT_NEAR(evicted_mass(full_pos, full, full_pos), 0.0, 1e-12);
    EXPECT_NEAR(evicted_mass(full_pos, full, std::vector<int32_t>{}), 1.0, 1e-6);
    // Held positions the full row never saw do not matter.
    EXPECT_NEAR(evicted_mass(full_pos, full, std::vector<int32_t>{0, 1, 2, 3, 4, 9}), 0.0, 1e-12);
}
