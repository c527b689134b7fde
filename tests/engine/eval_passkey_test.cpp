// Passkey prompts on the real SmolLM2 tokenizer: the key sits where asked.
#include <gtest/gtest.h>

#include "support/cpu_backends.h"

#include <cmath>
#include <set>

#include "eval/passkey.h"
#include "support/shared_model.h"
#include "util/error.h"

using namespace kvscope;

namespace {

std::string detokenize(const Tokenizer& tok, const std::vector<TokenId>& ids, size_t begin, size_t end) {
    std::string s;
    for (size_t i = begin; i < end; ++i) s += tok.token_to_piece(ids[i], false);
    return s;
}

}  // namespace

TEST(Passkey, KeyIsAtTheRequestedDepth) {
    REQUIRE_SHARED_MODEL(model);
    const Tokenizer& tok = model->tokenizer();
    // The ends fix the instructions' and the question's token counts.
    const PasskeyPrompt top = build_passkey_prompt(tok, 512, 0.0, "52917");
    const PasskeyPrompt bottom = build_passkey_prompt(tok, 512, 1.0, "52917");
    const int32_t head = top.key_begin;
    const int32_t question = static_cast<int32_t>(bottom.tokens.size()) - bottom.key_end;
    for (double depth : {0.0, 0.25, 0.5, 0.75, 1.0}) {
        SCOPED_TRACE(depth);
        const PasskeyPrompt p = build_passkey_prompt(tok, 512, depth, "52917");
        const auto n = static_cast<int32_t>(p.tokens.size());
        EXPECT_LE(n, 512);
        EXPECT_GT(n, 450) << "whole filler paragraphs should come close to the target";
        // The key sentence's tokens hold the digits, and nothing else does.
        const auto kb = static_cast<size_t>(p.key_begin), ke = static_cast<size_t>(p.key_end);
        EXPECT_EQ(detokenize(tok, p.tokens, kb, ke), " The pass key is 52917. Remember it. 52917 is the pass key.");
        const std::string before = detokenize(tok, p.tokens, 0, kb);
        const std::string after = detokenize(tok, p.tokens, ke, p.tokens.size());
        EXPECT_EQ(before.find("52917"), std::string::npos);
        EXPECT_EQ(after.find("52917"), std::string::npos);
        ASSERT_GE(after.size(), 38u);
        EXPECT_EQ(after.substr(after.size() - 38), " What is the pass key? The pass key is");
        // Depth = filler tokens before the key / all filler tokens, within one paragraph.
        const int32_t filler_total = n - head - (p.key_end - p.key_begin) - question;
        ASSERT_GT(p.filler_units, 10);
        const double unit = static_cast<double>(filler_total) / p.filler_units;
        EXPECT_NEAR(static_cast<double>(p.key_begin - head) / filler_total, depth, unit / filler_total);
        EXPECT_EQ(p.units_before, static_cast<int32_t>(std::lround(depth * p.filler_units)));
    }
}

TEST(Passkey, DepthZeroAndOneAreAtTheEnds) {
    REQUIRE_SHARED_MODEL(model);
    const Tokenizer& tok = model->tokenizer();
    const PasskeyPrompt first = build_passkey_prompt(tok, 300, 0.0, "11111");
    const PasskeyPrompt last = build_passkey_prompt(tok, 300, 1.0, "11111");
    EXPECT_EQ(first.units_before, 0);
    EXPECT_EQ(last.units_before, last.filler_units);
    const std::string head = detokenize(tok, first.tokens, 0, static_cast<size_t>(first.key_begin));
    EXPECT_EQ(head.find("The grass"), std::string::npos) << "depth 0: the key follows the instructions";
    const std::string tail = detokenize(tok, last.tokens, static_cast<size_t>(last.key_end), last.tokens.size());
    EXPECT_EQ(tail, " What is the pass key? The pass key is") << "depth 1: the question follows the key";
}

TEST(Passkey, RefusesBadDepthsAndTooShortTargets) {
    REQUIRE_SHARED_MODEL(model);
    const Tokenizer& tok = model->tokenizer();
    EXPECT_THROW(build_passkey_prompt(tok, 512, 1.5, "12345"), InvalidSetting);
    EXPECT_THROW(build_passkey_prompt(tok, 512, -0.1, "12345"), InvalidSetting);
    EXPECT_THROW(build_passkey_prompt(tok, 10, 0.5, "12345"), InvalidSetting);
}

TEST(Passkey, RandomKeysAreFiveDigitsAndReproducible) {
    uint64_t a = 7, b = 7;
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        const std::string k = random_passkey(a);
        EXPECT_EQ(k, random_passkey(b));
        ASSERT_EQ(k.size(), 5u);
        EXPECT_NE(k[0], '0');
        seen.insert(k);
    }
    EXPECT_GT(seen.size(), 15u);
}

TEST(Passkey, AccuracyGridSkipsSinksNotBelowTheWindow) {
    REQUIRE_SHARED_MODEL(model);
    PasskeyGrid grid;
    grid.lengths = {200};
    grid.depths = {0.5};
    grid.windows = {0};
    grid.sinks = {0, 4};
    grid.trials = 1;
    grid.decode_tokens = 6;
    const auto rows = passkey_accuracy(*model, SessionOptions{}, grid, test::cpu_backends(1));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_TRUE(rows[0].note.empty());
    EXPECT_GE(rows[0].accuracy, 0.0);
    EXPECT_LE(rows[0].accuracy, 1.0);
    EXPECT_FALSE(rows[1].note.empty());
    EXPECT_TRUE(std::isnan(rows[1].accuracy));
}
