// Gemma 3 270M against llama.cpp 4227c9b (the llama.cpp that PyPI's
// llama-cpp-python 0.3.16 vendors; c392e50, the one the SmolLM2 fixtures come
// from, predates Gemma 3). Fixtures in tests/data/reference-gemma3, made by
// tools/llamacpp-reference/dump_reference (see NOTES.md there): tokenisation,
// teacher-forced logits equal bit for bit, and greedy decoding that may part
// from llama.cpp's only at a near tie.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "session/session.h"
#include "support/reference_fixtures.h"
#include "support/gemma3_model.h"

namespace kvscope {
namespace {

using json = nlohmann::json;

// The CPU backend gives llama.cpp's logits bit for bit on all five fixtures
// (32 steps each). The tolerance only bounds which argmax flips the greedy
// check forgives, as the SmolLM2 test does.
constexpr float kLogitTolerance = 0.01f;

std::vector<std::filesystem::path> fixture_files() { return test::reference_fixture_files("reference-gemma3"); }
json load_json(const std::filesystem::path& p) { return test::load_reference_fixture(p); }

class Gemma3Agreement : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(Gemma3Agreement, TokensAndLogitsMatchLlamaCpp) {
    REQUIRE_GEMMA3(model);
    const json fx = load_json(GetParam());
    const auto prompt_ids = fx["prompt_ids"].get<std::vector<TokenId>>();
    const auto ref_ids = fx["generated_ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(model->tokenizer().encode(fx["prompt_text"].get<std::string>(), true, true), prompt_ids)
        << "prompt tokens differ from llama.cpp's";

    SessionOptions so;
    so.n_ctx = 2048;
    so.top_k_report = 1;
    // llama.cpp's local layers keep every cell and mask (swa_full): the same sums.
    so.swa_full = true;
    Session forced(*model, std::make_unique<CpuBackend>(*model, 2), so);
    forced.prefill(prompt_ids);
    float worst = 0;
    int worst_step = -1;
    std::vector<int> flipped;
    for (size_t i = 0; i < ref_ids.size(); ++i) {
        const json& st = fx["steps"][i];
        const StepResult r = forced.step(ref_ids[i]);
        const float* ours = forced.logits().data();
        for (const json& cand : st["top"]) {
            const float diff = std::fabs(ours[cand[0].get<int>()] - cand[1].get<float>());
            if (diff > worst) worst = diff, worst_step = static_cast<int>(i);
        }
        if (r.top[0].id != ref_ids[i]) {
            EXPECT_LT(st["gap_top1_top2"].get<float>(), 2 * kLogitTolerance)
                << "step " << i << ": we pick " << r.top[0].id << ", llama.cpp " << ref_ids[i];
            flipped.push_back(static_cast<int>(i));
        }
    }
    EXPECT_EQ(worst, 0.0f) << "logits differ from llama.cpp's (largest " << worst << " at step " << worst_step
                           << "); the CPU backend reproduces them exactly";
    std::printf("[ gemma3 ] %s (%zu prompt tokens): max |Δlogit| %.5f (step %d), argmax flips at near ties: %zu\n",
                fx["name"].get<std::string>().c_str(), prompt_ids.size(), worst, worst_step, flipped.size());

    Session free_run(*model, std::make_unique<CpuBackend>(*model, 2), so);
    free_run.prefill(prompt_ids);
    for (size_t i = 0; i < ref_ids.size(); ++i) {
        const StepResult r = free_run.step();
        if (r.token != ref_ids[i]) {
            EXPECT_NE(std::find(flipped.begin(), flipped.end(), static_cast<int>(i)), flipped.end())
                << "greedy decoding parts from llama.cpp at step " << i << " where its top-2 are not a near tie";
            break;
        }
    }
}

// The architecture's rules as ModelConfig reads them from the real file and
// model/architecture.cpp: llama.cpp's set_swa_pattern(6), window from the file.
TEST(Gemma3Model, LocalAndGlobalLayers) {
    REQUIRE_GEMMA3(model);
    const ModelConfig& c = model->config();
    EXPECT_EQ(c.architecture, "gemma3");
    EXPECT_EQ(c.native_window, 512);
    for (int32_t l = 0; l < c.n_layer; ++l) {
        const bool global = (l + 1) % 6 == 0;
        EXPECT_EQ(c.layer_window(l), global ? 0 : 512) << "layer " << l;
        EXPECT_EQ(c.layer_rope_base[static_cast<size_t>(l)], global ? 1000000.0f : 10000.0f) << "layer " << l;
    }
    EXPECT_EQ(c.describe_attention_layers(),
              "15 local (window 512, RoPE base 10000): 0-4, 6-10, 12-16; 3 global (RoPE base 1e+06): 5, 11, 17");
    EXPECT_TRUE(c.qk_norm && c.post_norms);
    EXPECT_EQ(c.ffn_activation, FfnActivation::GeluTanh);
    EXPECT_FLOAT_EQ(c.embedding_scale, std::sqrt(640.0f));
}

// Past the window a local layer's query sees exactly the last 512 positions
// (its own included) and a global layer's everything, in the capture too.
TEST(Gemma3Model, LocalLayersAttendWithinTheirWindow) {
    REQUIRE_GEMMA3(model);
    SessionOptions so;
    so.n_ctx = 1024;
    so.capture_attention = true;
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    std::vector<TokenId> prompt(600, 0);
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<TokenId>(1000 + (i * 7919) % 5000);
    s.prefill(prompt);
    s.step();                          // chooses from the prompt's logits (feeds nothing)
    const StepResult r = s.step();     // feeds that token at position 600
    ASSERT_EQ(r.attention.size(), 1u);
    const QueryAttention& q = r.attention[0];
    EXPECT_EQ(q.position, 600);
    for (int32_t l : {0, 4, 5, 17}) {
        const LayerAttention& la = q.layers[static_cast<size_t>(l)];
        const size_t want = model->config().layer_window(l) > 0 ? 512u : 601u;
        ASSERT_EQ(la.key_positions.size(), want) << "layer " << l;
        EXPECT_EQ(la.key_positions.front(), static_cast<int32_t>(601 - want)) << "layer " << l;
        EXPECT_EQ(la.key_positions.back(), 600) << "layer " << l;
        for (int32_t h = 0; h < model->config().n_head; ++h) {
            double sum = 0;
            for (size_t j = 0; j < want; ++j) sum += la.probs[static_cast<size_t>(h) * want + j];
            EXPECT_NEAR(sum, 1.0, 1e-4) << "layer " << l << " head " << h;
        }
    }
}

TEST(Gemma3AgreementFixtures, FivePromptsOneLongerThanTheWindow) {
    const auto files = fixture_files();
    ASSERT_GE(files.size(), 5u) << "tests/data/reference-gemma3 must hold the llama.cpp fixtures";
    size_t longest = 0, chats = 0;
    for (const auto& f : files) {
        const json fx = load_json(f);
        longest = std::max(longest, fx["prompt_ids"].size());
        chats += fx["prompt_text"].get<std::string>().find("<start_of_turn>") != std::string::npos;
    }
    EXPECT_GT(longest, 512u) << "one prompt must reach past the 512-token window of the local layers";
    EXPECT_GE(chats, 1u);
}


// With local layers really evicting (the default), the 801-token prompt's
// local layers hold 512 positions in reused slots: the same keys and
// weights, summed in another order. On Gemma 3 such an order change moves
// logits by up to about 0.8 (scaling q before or after the f16 rounding moved
// them by 0.6-0.9, NOTES.md): bounded here, and measured in the output.
// Gemma 3's tokenizer against llama.cpp's llama-tokenize on strings chosen to
// stress it: code, numbers, whitespace runs, seven non-Latin scripts, emoji
// (ZWJ sequences, variation selectors), accents, Gemma's turn markers
// (tests/data/reference-gemma3/tokenizer/, made by
// tools/llamacpp-reference/gemma3_tokenizer_fixture.py).
TEST(Gemma3Tokenizer, MatchesLlamaCppOnChosenStrings) {
    REQUIRE_GEMMA3(model);
    const json fx = load_json(std::string(KVSCOPE_TEST_DATA_DIR) + "/reference-gemma3/tokenizer/llama_tokenize.json");
    ASSERT_GE(fx["cases"].size(), 15u);
    for (const json& c : fx["cases"]) {
        const std::string text = c["text"].get<std::string>();
        EXPECT_EQ(model->tokenizer().encode(text, true, true), c["ids"].get<std::vector<TokenId>>())
            << "tokens of '" << text << "' differ from llama.cpp's";
    }
}

TEST(Gemma3NativeEviction, LongPromptAgreesUpToTheOrderOfSums) {
    REQUIRE_GEMMA3(model);
    const json fx = load_json(std::string(KVSCOPE_TEST_DATA_DIR) + "/reference-gemma3/gpl3_long.json");
    const auto prompt_ids = fx["prompt_ids"].get<std::vector<TokenId>>();
    const auto ref_ids = fx["generated_ids"].get<std::vector<TokenId>>();
    ASSERT_GT(prompt_ids.size(), 512u);
    SessionOptions so;
    so.n_ctx = 2048;
    so.top_k_report = 1;
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    s.prefill(prompt_ids);
    ASSERT_EQ(s.cache().held_count(0), 512);  // layer 0 is local: it really evicted
    float worst = 0;
    size_t agree = 0;
    for (size_t i = 0; i < ref_ids.size(); ++i) {
        const StepResult r = s.step(ref_ids[i]);
        for (const json& cand : fx["steps"][i]["top"])
            worst = std::max(worst, std::fabs(s.logits()[cand[0].get<size_t>()] - cand[1].get<float>()));
        agree += r.top[0].id == ref_ids[i];
    }
    std::printf("[ gemma3 ] native eviction, gpl3_long: max |dlogit| %.5f, top-1 = llama.cpp's at %zu of %zu steps\n",
                worst, agree, ref_ids.size());
    EXPECT_LT(worst, 1.25f);
    EXPECT_GE(agree, ref_ids.size() * 7 / 8);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Gemma3Agreement, ::testing::ValuesIn(fixture_files()), test::fixture_test_name);

}  // namespace
}  // namespace kvscope
