#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "session/sampler.h"
#include "session/session.h"
#include "util/error.h"

using namespace kvscope;

TEST(Sampler, GreedyPicksTheLargestLogit) {
    Sampler s(SamplingParams{});
    const float logits[] = {0.1f, 2.5f, -1.0f, 2.4f};
    EXPECT_EQ(s.sample(logits, 4), 1);
}

TEST(Sampler, SameSeedSameSequence) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.seed = 42;
    std::vector<float> logits(100);
    for (int i = 0; i < 100; ++i) logits[static_cast<size_t>(i)] = static_cast<float>(i % 7) * 0.3f;
    Sampler a(p), b(p);
    std::vector<int32_t> ra, rb;
    for (int i = 0; i < 50; ++i) {
        ra.push_back(a.sample(logits.data(), 100));
        rb.push_back(b.sample(logits.data(), 100));
    }
    EXPECT_EQ(ra, rb);
    p.seed = 43;
    Sampler c(p);
    std::vector<int32_t> rc;
    for (int i = 0; i < 50; ++i) rc.push_back(c.sample(logits.data(), 100));
    EXPECT_NE(ra, rc);
}

TEST(Sampler, TopKOneIsGreedy) {
    SamplingParams p;
    p.temperature = 5.0f;
    p.top_k = 1;
    Sampler s(p);
    const float logits[] = {0.0f, 0.1f, 3.0f, 0.2f};
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits, 4), 2);
}

TEST(Sampler, TopPKeepsOnlyTheNucleus) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_p = 0.5f;
    p.seed = 7;
    Sampler s(p);
    // Token 0 holds ~87 % of the mass, so a 0.5 nucleus is token 0 alone.
    const float logits[] = {4.0f, 1.0f, 1.0f, 0.5f};
    for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(logits, 4), 0);
}

TEST(Sampler, TemperatureSamplesFollowProbabilities) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.seed = 1;
    Sampler s(p);
    const float logits[] = {0.0f, std::log(3.0f)};  // p = 0.25, 0.75
    int ones = 0;
    for (int i = 0; i < 4000; ++i) ones += s.sample(logits, 2);
    EXPECT_NEAR(ones / 4000.0, 0.75, 0.03);
}

TEST(Sampler, RefusesImpossibleSettings) {
    SamplingParams p;
    p.temperature = -1.0f;
    EXPECT_THROW(p.validate(), InvalidSetting);
    p = {};
    p.top_p = 0.0f;
    EXPECT_THROW(p.validate(), InvalidSetting);
    p = {};
    p.top_k = -2;
    EXPECT_THROW(p.validate(), InvalidSetting);
}

// The one-pass path (k <= 64) and the partial sort (k > 64) give the same
// candidates as a full sort, ties to the lower id, on logits with many ties.
TEST(TopCandidates, OnePassAndPartialSortAgreeWithAFullSort) {
    std::mt19937 rng(7);
    std::vector<float> logits(5000);
    for (float& x : logits) x = static_cast<float>(static_cast<int>(rng() % 200)) * 0.25f;  // many equal values
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    for (int32_t k : {1, 5, 64, 65, 300}) {
        const auto top = top_candidates(logits.data(), static_cast<int32_t>(logits.size()), k);
        ASSERT_EQ(top.size(), static_cast<size_t>(k));
        for (int32_t i = 0; i < k; ++i) EXPECT_EQ(top[static_cast<size_t>(i)].id, order[static_cast<size_t>(i)]) << "k " << k << " rank " << i;
    }
}

TEST(TopCandidates, SortedWithSoftmaxProbabilities) {
    const float logits[] = {1.0f, 3.0f, 2.0f, 0.0f};
    auto top = top_candidates(logits, 4, 3);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].id, 1);
    EXPECT_EQ(top[1].id, 2);
    EXPECT_EQ(top[2].id, 0);
    double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + 1.0;
    EXPECT_NEAR(top[0].probability, std::exp(3.0) / z, 1e-6);
}
