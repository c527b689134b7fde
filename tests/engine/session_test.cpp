// Session behaviour on the real SmolLM2 model: prefill/step contract, context
// enforcement, seeded sampling, KV-cache bookkeeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "session/session.h"
#include "support/shared_model.h"
#include "util/error.h"

using namespace kvscope;

namespace {

std::unique_ptr<Session> make_session(const Model& m, SessionOptions so = {}, int threads = 2) {
    return std::make_unique<Session>(m, std::make_unique<CpuBackend>(m, threads), so);
}

std::vector<TokenId> run(Session& s, const std::vector<TokenId>& prompt, int n) {
    s.prefill(prompt);
    std::vector<TokenId> out;
    for (int i = 0; i < n; ++i) out.push_back(s.step().token);
    return out;
}

}  // namespace

TEST(Session, GreedyCapitalOfFrance) {
    REQUIRE_SHARED_MODEL(model);
    auto s = make_session(*model);
    const auto prompt = model->tokenizer().encode("The capital of France is", true, true);
    s->prefill(prompt);
    std::string text;
    for (int i = 0; i < 4; ++i) text += s->step().text;
    EXPECT_NE(text.find("Paris"), std::string::npos) << "continuation was: " << text;
}

TEST(Session, StepReportsPositionTopKAndCacheGrowth) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.top_k_report = 7;
    auto s = make_session(*model, so);
    const auto prompt = model->tokenizer().encode("Hello there", true, true);
    s->prefill(prompt);
    const int32_t n_prompt = static_cast<int32_t>(prompt.size());
    const ModelConfig& c = model->config();
    EXPECT_EQ(s->cache().held_count(0), n_prompt);
    for (int i = 0; i < 3; ++i) {
        const StepResult r = s->step();
        EXPECT_EQ(r.step, i);
        EXPECT_EQ(r.position, n_prompt + i);
        ASSERT_EQ(r.top.size(), 7u);
        EXPECT_EQ(r.top[0].id, r.token);  // greedy
        for (size_t k = 1; k < r.top.size(); ++k) EXPECT_GE(r.top[k - 1].logit, r.top[k].logit);
        // The token of step i enters the cache at step i + 1 (lazy steps).
        EXPECT_EQ(s->cache().held_count(c.n_layer - 1), n_prompt + i);
        EXPECT_EQ(s->cache().bytes_held(), 2ull * c.n_layer * c.n_head_kv * c.head_dim * (n_prompt + i) * 2);
    }
}

TEST(Session, PrefillBatchSizeOnlyChangesSummationOrder) {
    REQUIRE_SHARED_MODEL(model);
    const auto prompt = model->tokenizer().encode("One, two, three, four, five, six, seven", true, true);
    auto logits_with_batch = [&](int32_t batch) {
        SessionOptions so;
        so.prefill_batch = batch;
        auto s = make_session(*model, so);
        s->prefill(prompt);
        return s->logits();
    };
    // Batches of several tokens all take llama.cpp's batch order (tinyBLAS):
    // how the prompt is cut into batches changes nothing.
    EXPECT_EQ(logits_with_batch(5), logits_with_batch(64));
    // One token at a time takes its decode order (ggml_vec_dot_f16): the same
    // maths summed in another order, as in llama.cpp, so close but not equal.
    const auto one = logits_with_batch(1), batched = logits_with_batch(64);
    float worst = 0;
    for (size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::fabs(one[i] - batched[i]));
    EXPECT_LT(worst, 0.5f);
    EXPECT_EQ(argmax(one.data(), static_cast<int32_t>(one.size())),
              argmax(batched.data(), static_cast<int32_t>(batched.size())));
}

TEST(Session, ThreadCountDoesNotChangeTokens) {
    REQUIRE_SHARED_MODEL(model);
    const auto prompt = model->tokenizer().encode("A short story about a robot:", true, true);
    auto one = make_session(*model, {}, 1);
    auto three = make_session(*model, {}, 3);
    EXPECT_EQ(run(*one, prompt, 12), run(*three, prompt, 12));
}

TEST(Session, SameSeedSameRunDifferentSeedDifferentRun) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.sampling.temperature = 1.2f;
    so.sampling.top_k = 50;
    so.sampling.seed = 99;
    const auto prompt = model->tokenizer().encode("Once upon a time", true, true);
    auto a = make_session(*model, so);
    auto b = make_session(*model, so);
    const auto ra = run(*a, prompt, 24);
    EXPECT_EQ(ra, run(*b, prompt, 24));
    EXPECT_EQ(ra, run(*a, prompt, 24)) << "prefill must restart the random sequence";
    so.sampling.seed = 100;
    auto c = make_session(*model, so);
    EXPECT_NE(ra, run(*c, prompt, 24));
}

TEST(Session, ContextLengthIsEnforced) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.n_ctx = 8;
    auto s = make_session(*model, so);
    const std::vector<TokenId> too_long(9, 100);
    try {
        s->prefill(too_long);
        FAIL() << "a 9-token prompt must not fit a context of 8";
    } catch (const InvalidSetting& e) {
        EXPECT_NE(std::string(e.what()).find("context length 8"), std::string::npos) << e.what();
    }
    s->prefill(std::vector<TokenId>(6, 100));
    s->step();  // samples position 6
    s->step();  // feeds 6, samples position 7
    s->step();  // feeds 7 (context now full), samples position 8
    try {
        s->step();  // would feed position 8
        FAIL() << "stepping past the context must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("context full"), std::string::npos) << e.what();
    }
}

TEST(Session, RefusesBadOptionsAndInputs) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.n_ctx = model->config().n_ctx_train + 1;
    EXPECT_THROW(make_session(*model, so), InvalidSetting);
    so = {};
    so.top_k_report = 0;
    EXPECT_THROW(make_session(*model, so), InvalidSetting);
    EXPECT_THROW(make_session(*model, {}, 0), InvalidSetting);
    auto s = make_session(*model);
    EXPECT_THROW(s->step(), Error);                 // before prefill
    EXPECT_THROW(s->prefill({}), InvalidSetting);   // empty prompt
    s->prefill({100, 200});
    EXPECT_THROW(s->step(-1), InvalidSetting);
    EXPECT_THROW(s->prefill({100, 999999}), Error);  // token outside the vocabulary
}

TEST(Session, StopsOnEndOfGenerationToken) {
    REQUIRE_SHARED_MODEL(model);
    auto s = make_session(*model);
    const Tokenizer& tok = model->tokenizer();
    s->prefill(tok.encode("<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\n", true, true));
    const StepResult r = s->step(tok.eos());
    EXPECT_TRUE(r.end_of_generation);
    EXPECT_TRUE(tok.is_end_of_generation(tok.eos()));
}
