// SmolLM2's real vocabulary against llama.cpp's own ids
// (tests/data/smollm2_tokenizer_cases.json, made by scripts/make-tokenizer-fixture.py).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf/gguf_file.h"
#include "support/model_path.h"
#include "tokenizer/tokenizer.h"

namespace kvscope {
namespace {

class TokenizerSmolLM2 : public ::testing::Test {
protected:
    void SetUp() override {
        KVSCOPE_REQUIRE_MODEL(path);
        file_ = gguf::GgufFile::open(path);
        tok_ = Tokenizer::from_gguf(*file_);
    }
    std::unique_ptr<gguf::GgufFile> file_;
    std::unique_ptr<Tokenizer> tok_;
};

TEST_F(TokenizerSmolLM2, VocabularyFacts) {
    EXPECT_EQ(tok_->model_name(), "gpt2");
    EXPECT_EQ(tok_->pre_name(), "smollm");
    EXPECT_EQ(tok_->n_vocab(), 49152);
    EXPECT_EQ(tok_->bos(), 1);
    EXPECT_EQ(tok_->eos(), 2);
    EXPECT_EQ(tok_->eot(), 0);  // llama.cpp prints "EOT token = 0 '<|endoftext|>'" for this file
    EXPECT_FALSE(tok_->add_bos());
    EXPECT_FALSE(tok_->add_eos());
    EXPECT_EQ(tok_->find_token("<|im_start|>"), 1);
    EXPECT_EQ(tok_->find_token("<|im_end|>"), 2);
    EXPECT_TRUE(tok_->is_end_of_generation(0));
    EXPECT_TRUE(tok_->is_end_of_generation(2));
    EXPECT_FALSE(tok_->is_end_of_generation(1));
    EXPECT_FALSE(tok_->is_end_of_generation(198));
    EXPECT_EQ(tok_->encode("\n", false, false), std::vector<TokenId>{198});
}

TEST_F(TokenizerSmolLM2, MatchesLlamaCppIds) {
    std::ifstream in(std::string(KVSCOPE_TEST_DATA_DIR) + "/smollm2_tokenizer_cases.json");
    ASSERT_TRUE(in) << "tests/data/smollm2_tokenizer_cases.json is missing";
    const nlohmann::json doc = nlohmann::json::parse(in);
    const auto& cases = doc.at("cases");
    ASSERT_GE(cases.size(), 35u);
    for (const auto& c : cases) {
        const std::string text = c.at("text");
        const bool parse_special = c.at("parse_special");
        const std::vector<TokenId> expected = c.at("ids");
        const auto got = tok_->encode(text, /*add_special=*/false, parse_special);
        EXPECT_EQ(got, expected) << "text: '" << text << "' parse_special=" << parse_special;
        // With special tokens printed, the ids spell the text again (valid UTF-8 input).
        EXPECT_EQ(tok_->decode(got, true), text);
    }
}

// JSON cannot carry malformed UTF-8, so these ids are spelled out here. From
// llama-tokenize (c392e50) on this file with --file --no-escape: each bad
// byte is read as U+FFFD (id 24211).
TEST_F(TokenizerSmolLM2, MalformedUtf8LikeLlamaCpp) {
    EXPECT_EQ(tok_->encode("a\xFF" "b\xC3(\xE2\x82", false, true), (std::vector<TokenId>{81, 24211, 82, 24211, 24, 24211, 24211}));
}

TEST_F(TokenizerSmolLM2, ChatPromptTokens) {
    const std::string prompt = apply_chatml({{"user", "hi"}}, true);
    const auto ids = tok_->encode(prompt, true, true);
    ASSERT_GE(ids.size(), 4u);
    EXPECT_EQ(ids.front(), 1);  // <|im_start|>, from the text: SmolLM2 adds no BOS
    EXPECT_EQ(tok_->decode(ids), prompt);
    EXPECT_EQ(tok_->token_to_piece(2, false), "");
    EXPECT_EQ(tok_->token_to_piece(2, true), "<|im_end|>");
}

TEST_F(TokenizerSmolLM2, LongTextIsFast) {
    std::string text;
    const std::string para = "The 3 quick brown foxes (aged 12345) jumped over 7 lazy dogs; naïve café ☕ 東京.\n\t  ";
    while (text.size() < 30000) text += para;
    std::string one_word(30000, 'a');  // a single pre-token: the worst case for BPE merging
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok_->encode(text, false, true);
    const auto ids2 = tok_->encode(one_word, false, true);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(tok_->decode(ids), text);
    EXPECT_EQ(tok_->decode(ids2), one_word);
    EXPECT_LT(s, 1.0) << "tokenizing 2 x 30,000 characters took " << s << " s";
}

}  // namespace
}  // namespace kvscope
