// SepLLM and LM-Infinite (issue 13): presets built of existing pieces. The
// separator rule, the presets' expansions, and SepLLM's pins on SmolLM2.
#include <gtest/gtest.h>

#include <algorithm>

#include "backend/cpu/cpu_backend.h"
#include "kv/policy_registry.h"
#include "session/session.h"
#include "support/shared_model.h"
#include "tokenizer/separators.h"
#include "util/error.h"

using namespace kvscope;

TEST(Separators, PunctuationAndLineBreaksOnly) {
    for (const char* yes : {".", ",", ";", ":", "!", "?", "\n", ".\n", " ,", "\n\n", "?!", " .\t"})
        EXPECT_TRUE(is_separator_piece(yes)) << '"' << yes << '"';
    for (const char* no : {"", " ", "\t", "a", " the", "3.5", "...a", "(", "-", "'", ".)"})
        EXPECT_FALSE(is_separator_piece(no)) << '"' << no << '"';
}

TEST(PolicyPresets, ExpandToTheirPieces) {
    const PolicyPreset* sep = find_policy_preset("sepllm");
    ASSERT_NE(sep, nullptr);
    const PolicyConfig s = sep->make(64, 3);
    EXPECT_EQ(s.describe(), "global(3 sinks, 0 pins, separators)+window(64) f16 original");
    EXPECT_EQ(s.sinks, 3);
    EXPECT_NO_THROW(s.validate(1000, 30, 1));  // the first tokens need not be in the text yet
    const PolicyConfig l = find_policy_preset("lm-infinite")->make(2048, 4);
    EXPECT_EQ(l.describe(), "sinks(4)+window(2048) f16 in-cache");
    EXPECT_EQ(find_policy_preset("snapkv"), nullptr);
    // Separator pins belong to the global policy.
    PolicyConfig wrong;
    wrong.kind = PolicyKind::Window;
    wrong.window = 8;
    wrong.pin_separators = true;
    EXPECT_THROW(wrong.validate(100, 4, 10), InvalidSetting);
    EXPECT_EQ(s.layer_capacity(0, 500), 500);  // as many separators as the text has
}

// Separators pile up with the text, so SepLLM (like a percent budget) cannot
// run past the context as a window can: it stops there with "context full".
TEST(PolicyPresets, SeparatorPinsAndPercentBudgetsStopAtTheContext) {
    REQUIRE_SHARED_MODEL(model);
    const auto prompt = model->tokenizer().encode("One, two, three. Four; five: six!", true, true);
    PolicyConfig percent;
    percent.kind = PolicyKind::Tova;
    percent.budget_percent = 50;
    PolicyConfig window;
    window.kind = PolicyKind::Window;
    window.window = 8;
    for (const PolicyConfig& policy : {find_policy_preset("sepllm")->make(8, 2), percent, window}) {
        SessionOptions so;
        so.n_ctx = static_cast<int32_t>(prompt.size()) + 6;
        so.policy = policy;
        Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
        s.prefill(prompt);
        int steps = 0;
        try {
            for (; steps < 20; ++steps) s.step(model->tokenizer().encode(",", false, false).front());
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("context full"), std::string::npos) << e.what();
        }
        if (policy.kind == PolicyKind::Window) EXPECT_EQ(steps, 20) << "a window runs past the context";
        else EXPECT_EQ(steps, 7) << policy.describe() << " stops when the context is full";
    }
}

TEST(PolicyPresets, SepLlmKeepsTheFirstTokensEverySeparatorAndTheWindow) {
    REQUIRE_SHARED_MODEL(model);
    const int32_t window = 6, first = 2;
    SessionOptions so;
    so.policy = find_policy_preset("sepllm")->make(window, first);
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    s.prefill(model->tokenizer().encode("One, two, three. Four; five: six! Seven? Eight,\nnine. Ten, eleven, twelve.", true,
                                        true));
    int32_t separators_seen = 0;
    for (int i = 0; i < 12; ++i) {
        const StepSnapshot now = s.step();
        const int32_t last = now.position - 1;  // the last position fed (this step's token goes in next step)
        std::vector<int32_t> separators;
        for (int32_t p = 0; p <= last; ++p)
            if (is_separator_piece(model->tokenizer().token_to_piece(s.tokens()[static_cast<size_t>(p)], false)))
                separators.push_back(p);
        separators_seen = static_cast<int32_t>(separators.size());
        for (const auto& v : now.layers) {
            // Exactly: the first tokens, the separators, the window.
            std::vector<int32_t> expected;
            for (int32_t p = 0; p <= last; ++p)
                if (p < first || p > last - window || std::binary_search(separators.begin(), separators.end(), p))
                    expected.push_back(p);
            ASSERT_EQ(v.held_positions, expected) << "step " << i;
            for (size_t k = 0; k < v.held_positions.size(); ++k) {
                const int32_t p = v.held_positions[k];
                // The first tokens show as sinks, separators as global (inside the window too).
                const bool separator = std::binary_search(separators.begin(), separators.end(), p);
                EXPECT_EQ(v.held_roles[k] == SlotRole::Sink, p < first) << "position " << p;
                EXPECT_EQ(v.held_roles[k] == SlotRole::Global, p >= first && separator) << "position " << p;
            }
        }
    }
    EXPECT_GE(separators_seen, 8);
}
