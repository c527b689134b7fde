// llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out,
// copied to ../shared/data/tokenizer): every input must give exactly the ids
// of the reference Hugging Face tokenizer, without special tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace kvscope {
namespace {

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Mirrors llama.cpp's tests/test-tokenizer-0.cpp: inputs are separated by
// "\n__ggml_vocab_test__\n" (the newline before the marker belongs to the
// separator, not to the input), outputs are one line of ids per input.
std::vector<std::string> split_inputs(const std::string& raw) {
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> inputs;
    size_t pos = 0;
    while (pos < raw.size()) {
        const size_t next = raw.find(sep, pos);
        if (next == std::string::npos) {
            inputs.push_back(raw.substr(pos));
            break;
        }
        inputs.push_back(raw.substr(pos, next - pos));
        pos = next + sep.size();
    }
    return inputs;
}

std::vector<std::vector<TokenId>> read_outputs(const std::string& raw) {
    std::vector<std::vector<TokenId>> outputs;
    std::istringstream lines(raw);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream ids(line);
        std::vector<TokenId> v;
        for (TokenId id; ids >> id;) v.push_back(id);
        outputs.push_back(std::move(v));
    }
    return outputs;
}

class TokenizerFixtures : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerFixtures, MatchesReferenceIds) {
#ifndef KVSCOPE_SHARED_DIR
    GTEST_SKIP() << "KVSCOPE_SHARED_DIR is not defined: ../shared is missing";
#else
    const std::filesystem::path dir = std::filesystem::path(KVSCOPE_SHARED_DIR) / "data" / "tokenizer";
    const std::filesystem::path vocab = dir / (std::string("ggml-vocab-") + GetParam() + ".gguf");
    if (!std::filesystem::exists(vocab)) GTEST_SKIP() << vocab << " not found: ../shared is missing";

    const auto file = gguf::GgufFile::open(vocab.string());
    const auto tok = Tokenizer::from_gguf(*file);
    const auto inputs = split_inputs(read_all(vocab.string() + ".inp"));
    const auto outputs = read_outputs(read_all(vocab.string() + ".out"));
    ASSERT_EQ(inputs.size(), outputs.size());
    ASSERT_GT(inputs.size(), 0u);

    size_t passed = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto got = tok->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
        EXPECT_EQ(got, outputs[i]) << GetParam() << " case #" << i << ": '" << inputs[i] << "'";
        passed += (got == outputs[i]);
    }
    RecordProperty("passed", std::to_string(passed) + "/" + std::to_string(inputs.size()));
    std::printf("[ fixtures ] %s: %zu/%zu\n", GetParam(), passed, inputs.size());
#endif
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerFixtures, ::testing::Values("gpt-2", "starcoder", "llama-spm", "phi-3", "falcon", "mpt", "deepseek-llm", "deepseek-coder"),
                         [](const auto& param_info) {
                             std::string name = param_info.param;
                             for (char& c : name)
                                 if (c == '-') c = '_';
                             return name;
                         });

// Malformed UTF-8 through the SentencePiece path: bytes fall back to <0xXX>
// tokens. Ids from llama-tokenize (c392e50) --file --no-escape --no-bos.
TEST(TokenizerFixturesExtra, LlamaSpmMalformedUtf8) {
#ifdef KVSCOPE_SHARED_DIR
    const std::string vocab = std::string(KVSCOPE_SHARED_DIR) + "/data/tokenizer/ggml-vocab-llama-spm.gguf";
    if (!std::filesystem::exists(vocab)) GTEST_SKIP() << vocab << " not found: ../shared is missing";
    const auto file = gguf::GgufFile::open(vocab);
    const auto tok = Tokenizer::from_gguf(*file);
    EXPECT_EQ(tok->encode("a\xFF" "b\xC3(\xE2\x82", false, false), (std::vector<TokenId>{263, 258, 101, 198, 43, 229, 133}));
    EXPECT_EQ(tok->encode("bad \xFF\xFE bytes", false, false), (std::vector<TokenId>{4319, 29871, 258, 257, 229, 153, 132, 13193}));
#else
    GTEST_SKIP() << "KVSCOPE_SHARED_DIR is not defined: ../shared is missing";
#endif
}

}  // namespace
}  // namespace kvscope
