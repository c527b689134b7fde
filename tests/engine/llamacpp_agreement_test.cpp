// Agreement with llama.cpp on SmolLM2-135M-Instruct Q4_1 (fixtures in
// tests/data/reference, made by tools/llamacpp-reference; see NOTES.md there).
//
// For every fixture prompt:
//  1. our tokenisation of the prompt equals llama.cpp's;
//  2. teacher-forced: at each of the 64 steps, fed the same tokens as
//     llama.cpp, our logits for llama.cpp's top-10 tokens are within
//     kLogitTolerance of its logits, and our argmax is its token unless its
//     own top-2 logits are closer than kLogitTolerance (a near tie);
//  3. free-running greedy decoding gives llama.cpp's 64 tokens, up to the
//     first near-tie step where the choice flipped (reported, and only
//     allowed where the fixture's notes list that step).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "session/session.h"
#include "support/reference_fixtures.h"
#include "util/simd_level.h"
#include "support/model_path.h"
#include "support/shared_model.h"

using namespace kvscope;
using nlohmann::json;

namespace {

// The CPU backend reproduces llama.cpp's operation order (backend/cpu/ggml_order.h)
// with no compiler contraction and explicit fmas, so its logits equal the
// fixtures' bit for bit on any x86-64 CPU and at every SIMD level
// (simd_levels_test.cpp), and the test asserts it. kLogitTolerance only
// classifies steps as near ties (top-2 gap below it; listed in
// tests/data/reference/NOTES.md, the closest is 0.0023) for the greedy check.
constexpr float kLogitTolerance = 0.01f;

std::vector<std::filesystem::path> fixture_files() { return test::reference_fixture_files("reference"); }
json load_json(const std::filesystem::path& p) { return test::load_reference_fixture(p); }

class LlamaCppAgreement : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(LlamaCppAgreement, TokensAndLogitsMatch) {
    const Model* model = test::shared_model();
    if (model == nullptr) {
        if (test::running_in_ci()) FAIL() << test::model_missing_message();
        GTEST_SKIP() << test::model_missing_message();
    }
    const json fx = load_json(GetParam());
    const auto prompt_ids = fx["prompt_ids"].get<std::vector<TokenId>>();
    const auto ref_ids = fx["generated_ids"].get<std::vector<TokenId>>();
    const std::string prompt = fx["prompt_text"].get<std::string>();

    // 1. Tokenisation.
    EXPECT_EQ(model->tokenizer().encode(prompt, true, true), prompt_ids) << "prompt tokens differ from llama.cpp's";

    // 2. Teacher-forced logits.
    SessionOptions so;
    so.n_ctx = 2048;
    so.top_k_report = 1;
    Session forced(*model, std::make_unique<CpuBackend>(*model, 2), so);
    forced.prefill(prompt_ids);
    float worst = 0;
    int worst_step = -1;
    std::vector<int> flipped_near_ties;
    for (size_t i = 0; i < ref_ids.size(); ++i) {
        const json& st = fx["steps"][i];
        // step() first feeds the previous token, then chooses from the new logits.
        const StepResult r = forced.step(ref_ids[i]);
        const float* ours = forced.logits().data();
        for (const json& cand : st["top"]) {
            const float diff = std::fabs(ours[cand[0].get<int>()] - cand[1].get<float>());
            if (diff > worst) worst = diff, worst_step = static_cast<int>(i);
        }
        const int our_argmax = r.top[0].id;
        if (our_argmax != ref_ids[i]) {
            const float gap = st["gap_top1_top2"].get<float>();
            EXPECT_LT(gap, kLogitTolerance) << "step " << i << ": we pick " << our_argmax << ", llama.cpp "
                                            << ref_ids[i] << " with a top-2 gap of " << gap;
            flipped_near_ties.push_back(static_cast<int>(i));
        }
    }
    EXPECT_EQ(worst, 0.f) << "logits differ from llama.cpp's (largest " << worst << " at step " << worst_step
                          << "); the CPU backend must reproduce them exactly (" << simd_report() << ")";
    RecordProperty("max_logit_diff", std::to_string(worst));
    std::printf("[ agreement ] %s: max |Δlogit| %.5f (step %d), argmax flips at near ties: %zu\n",
                fx["name"].get<std::string>().c_str(), worst, worst_step, flipped_near_ties.size());

    // 3. Free-running greedy decoding.
    Session free_run(*model, std::make_unique<CpuBackend>(*model, 2), so);
    free_run.prefill(prompt_ids);
    for (size_t i = 0; i < ref_ids.size(); ++i) {
        const StepResult r = free_run.step();
        if (r.token != ref_ids[i]) {
            // Only a near tie listed by the teacher-forced pass may change the continuation.
            EXPECT_NE(std::find(flipped_near_ties.begin(), flipped_near_ties.end(), static_cast<int>(i)),
                      flipped_near_ties.end())
                << "greedy continuation differs from llama.cpp at step " << i << " (ours " << r.token << ", theirs "
                << ref_ids[i] << ") where llama.cpp's top-2 are not a near tie";
            break;
        }
    }
}


TEST(LlamaCppAgreementFixtures, AtLeastFivePromptsOneLong) {
    const auto files = fixture_files();
    ASSERT_GE(files.size(), 5u) << "tests/data/reference must hold the llama.cpp fixtures";
    size_t longest = 0;
    for (const auto& f : files) longest = std::max(longest, load_json(f)["prompt_ids"].size());
    EXPECT_GT(longest, 500u) << "one fixture prompt must be over 500 tokens";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LlamaCppAgreement, ::testing::ValuesIn(fixture_files()), test::fixture_test_name);

}  // namespace
