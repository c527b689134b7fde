// Perplexity on the real SmolLM2 model (full cache; policies with eviction are
// Tests run on one thread: with the machine shared, spinning worker pools cost more than they give.
// tested with the policy implementation).
#include <gtest/gtest.h>

#include "support/cpu_backends.h"

#include <cmath>
#include <numeric>

#include "eval/perplexity.h"
#include "support/shared_model.h"
#include "util/error.h"

using namespace kvscope;

namespace {

// About 100 tokens of ordinary English.
const char* kText =
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined "
    "movable metal type, oil-based ink and a wooden press adapted from those used to make wine. Within a few "
    "decades, printing shops had opened in most of the large cities of Europe, and the price of books fell "
    "sharply. Ideas now travelled faster than ever before, and scholars could compare the same text in many "
    "places at once.";

std::vector<TokenId> text_tokens(const Model& m) { return m.tokenizer().encode(kText, true, false); }

}  // namespace

TEST(Perplexity, ShortTextFullCacheIsFiniteAndExpOfMeanNll) {
    REQUIRE_SHARED_MODEL(model);
    const auto tokens = text_tokens(*model);
    ASSERT_GE(tokens.size(), 80u);
    ASSERT_LE(tokens.size(), 130u);
    int32_t calls = 0, last_done = 0, last_total = 0;
    const PerplexityResult r = perplexity(*model, tokens, SessionOptions{}, test::cpu_backends(1), [&](int32_t done, int32_t total) {
        ++calls;
        last_done = done;
        last_total = total;
        return true;
    });
    EXPECT_EQ(r.n_scored, static_cast<int32_t>(tokens.size()) - 1);
    ASSERT_EQ(r.nll_per_token.size(), tokens.size() - 1);
    EXPECT_TRUE(std::isfinite(r.ppl));
    EXPECT_GT(r.ppl, 1.0);
    EXPECT_LT(r.ppl, 100.0) << "SmolLM2 should find plain English fairly predictable";
    const double mean = std::accumulate(r.nll_per_token.begin(), r.nll_per_token.end(), 0.0) / r.n_scored;
    EXPECT_NEAR(r.mean_nll, mean, 1e-4);
    EXPECT_NEAR(r.ppl, std::exp(r.mean_nll), 1e-9 * r.ppl);
    for (float nll : r.nll_per_token) EXPECT_GE(nll, 0.0f);
    EXPECT_EQ(calls, r.n_scored);
    EXPECT_EQ(last_done, last_total);
    // The cache grows with the text: the last token is predicted, never stored.
    const ModelConfig& c = model->config();
    const uint64_t per_position = 2ull * c.n_layer * c.n_head_kv * c.head_dim * 2;  // f16
    EXPECT_EQ(r.final_kv_bytes, per_position * (tokens.size() - 1));
    EXPECT_EQ(r.peak_kv_bytes, r.final_kv_bytes);
    EXPECT_TRUE(std::isnan(r.mean_kl));
    EXPECT_TRUE(std::isnan(r.top1_agreement));
}

TEST(Perplexity, FullPolicyAgreesWithItsFullReference) {
    REQUIRE_SHARED_MODEL(model);
    auto tokens = text_tokens(*model);
    tokens.resize(24);
    SessionOptions so;
    so.reference_run = true;
    const PerplexityResult r = perplexity(*model, tokens, so, test::cpu_backends(1));
    EXPECT_NEAR(r.mean_kl, 0.0, 1e-9);
    EXPECT_EQ(r.top1_agreement, 1.0);
}

TEST(Perplexity, ProgressReturningFalseCancels) {
    REQUIRE_SHARED_MODEL(model);
    const auto tokens = text_tokens(*model);
    int32_t calls = 0;
    try {
        perplexity(*model, tokens, SessionOptions{}, test::cpu_backends(1), [&](int32_t done, int32_t) {
            ++calls;
            return done < 3;
        });
        FAIL() << "expected cancellation";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "cancelled");
    }
    EXPECT_EQ(calls, 3);
}

TEST(Perplexity, RefusesTextsTooShortOrLongerThanTheTrainingContext) {
    REQUIRE_SHARED_MODEL(model);
    EXPECT_THROW(perplexity(*model, {1}, SessionOptions{}, test::cpu_backends(1)), InvalidSetting);
    const std::vector<TokenId> too_long(static_cast<size_t>(model->config().n_ctx_train) + 1, 42);
    try {
        perplexity(*model, too_long, SessionOptions{}, test::cpu_backends(1));
        FAIL() << "expected InvalidSetting";
    } catch (const InvalidSetting& e) {
        EXPECT_NE(std::string(e.what()).find("training context"), std::string::npos) << e.what();
    }
}

TEST(Perplexity, SessionOptionsUseTheTextLengthAsContext) {
    ModelConfig c;
    c.n_ctx_train = 100;
    SessionOptions so;
    so.n_ctx = 7;
    so.cache_views = true;
    const SessionOptions out = perplexity_session_options(c, so, 50);
    EXPECT_EQ(out.n_ctx, 50);
    EXPECT_FALSE(out.cache_views);
    EXPECT_THROW(perplexity_session_options(c, so, 101), InvalidSetting);
    EXPECT_EQ(perplexity_session_options(c, so, 100).n_ctx, 100);
}
