// Unit tests of the tokenizer pieces on small hand-made vocabularies,
// written as in-memory GGUF files.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "gguf/gguf_file.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace kvscope {
namespace {

using Words = std::vector<std::string>;

// ---- a minimal GGUF v3 writer (metadata only) ----
class GgufBuilder {
public:
    GgufBuilder& str(const std::string& key, const std::string& v) {
        kv(key, 8);
        put_str(v);
        ++n_;
        return *this;
    }
    GgufBuilder& u32(const std::string& key, uint32_t v) {
        kv(key, 4);
        put(v);
        ++n_;
        return *this;
    }
    GgufBuilder& boolean(const std::string& key, bool v) {
        kv(key, 7);
        put(static_cast<uint8_t>(v));
        ++n_;
        return *this;
    }
    GgufBuilder& strs(const std::string& key, const std::vector<std::string>& v) {
        kv(key, 9);
        put(uint32_t{8});
        put(static_cast<uint64_t>(v.size()));
        for (const auto& s : v) put_str(s);
        ++n_;
        return *this;
    }
    GgufBuilder& i32s(const std::string& key, const std::vector<int32_t>& v) {
        kv(key, 9);
        put(uint32_t{5});
        put(static_cast<uint64_t>(v.size()));
        for (int32_t x : v) put(x);
        ++n_;
        return *this;
    }
    GgufBuilder& f32s(const std::string& key, const std::vector<float>& v) {
        kv(key, 9);
        put(uint32_t{6});
        put(static_cast<uint64_t>(v.size()));
        for (float x : v) put(x);
        ++n_;
        return *this;
    }
    // The whole file: header, metadata, padding to the default alignment.
    std::vector<uint8_t> bytes() const {
        std::vector<uint8_t> out;
        const auto put_raw = [&](const void* p, size_t n) {
            out.insert(out.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
        };
        const uint32_t magic = 0x46554747, version = 3;
        const uint64_t n_tensors = 0;
        put_raw(&magic, 4);
        put_raw(&version, 4);
        put_raw(&n_tensors, 8);
        put_raw(&n_, 8);
        out.insert(out.end(), body_.begin(), body_.end());
        while (out.size() % 32) out.push_back(0);
        return out;
    }

private:
    template <class T> void put(T v) {
        uint8_t b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        body_.insert(body_.end(), b, b + sizeof(T));
    }
    void put_str(const std::string& s) {
        put(static_cast<uint64_t>(s.size()));
        body_.insert(body_.end(), s.begin(), s.end());
    }
    void kv(const std::string& key, uint32_t type) {
        put_str(key);
        put(type);
    }
    std::vector<uint8_t> body_;
    uint64_t n_ = 0;
};

// A parsed tokenizer together with the bytes its GgufFile points into.
struct Loaded {
    std::vector<uint8_t> bytes;
    std::unique_ptr<gguf::GgufFile> file;
    std::unique_ptr<Tokenizer> tok;
};
Loaded load(const GgufBuilder& b) {
    Loaded l;
    l.bytes = b.bytes();
    l.file = gguf::GgufFile::parse(l.bytes.data(), l.bytes.size(), "test");
    l.tok = Tokenizer::from_gguf(*l.file);
    return l;
}

// A byte-level BPE vocabulary: the 256 byte symbols, then the merged tokens
// and the given extra tokens (with their types).
GgufBuilder bpe_vocab(const std::vector<std::string>& merges, const std::string& pre,
                      const std::vector<std::pair<std::string, int32_t>>& extra = {}) {
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(byte_level::encode(std::string(1, static_cast<char>(b))));
        types.push_back(1);
    }
    for (const auto& m : merges) {
        std::string t = m;
        t.erase(t.find(' '), 1);
        tokens.push_back(t);
        types.push_back(1);
    }
    for (const auto& [t, type] : extra) {
        tokens.push_back(t);
        types.push_back(type);
    }
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "gpt2").strs("tokenizer.ggml.tokens", tokens).i32s("tokenizer.ggml.token_type", types)
        .strs("tokenizer.ggml.merges", merges);
    if (!pre.empty()) b.str("tokenizer.ggml.pre", pre);
    return b;
}

std::vector<TokenId> ids_of(const Tokenizer& t, const Words& texts) {
    std::vector<TokenId> ids;
    for (const auto& s : texts) {
        const TokenId id = t.find_token(s);
        EXPECT_GE(id, 0) << "no token '" << s << "'";
        ids.push_back(id);
    }
    return ids;
}

// ---- pre-tokenizers ----

TEST(TokenizerPreSplit, Gpt2Pattern) {
    EXPECT_EQ(pre_tokenize(PreTokenizer::Gpt2, "Hello world's  test 123!!"),
              (Words{"Hello", " world", "'s", " ", " test", " 123", "!!"}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Gpt2, "a   b\n\n c  "), (Words{"a", "  ", " b", "\n\n", " c", "  "}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Gpt2, "I'M we'll"), (Words{"I", "'", "M", " we", "'ll"}));  // case-sensitive
    EXPECT_EQ(pre_tokenize(PreTokenizer::Gpt2, "caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD"), (Words{"caf\xC3\xA9", " \xE4\xBD\xA0\xE5\xA5\xBD"}));
    EXPECT_TRUE(pre_tokenize(PreTokenizer::Gpt2, "").empty());
}

TEST(TokenizerPreSplit, DigitsThenGpt2) {
    EXPECT_EQ(pre_tokenize(PreTokenizer::DigitsThenGpt2, "abc 1234x"), (Words{"abc", " ", "1", "2", "3", "4", "x"}));
    // Non-ASCII \p{N} too (ARABIC-INDIC DIGIT THREE, CIRCLED DIGIT ONE).
    EXPECT_EQ(pre_tokenize(PreTokenizer::DigitsThenGpt2, "\xD9\xA3\xE2\x91\xA0"), (Words{"\xD9\xA3", "\xE2\x91\xA0"}));
}

TEST(TokenizerPreSplit, Llama3Pattern) {
    EXPECT_EQ(pre_tokenize(PreTokenizer::Llama3, "Hello 12345 I'M"), (Words{"Hello", " ", "123", "45", " I", "'M"}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Llama3, "a\n\n b"), (Words{"a", "\n\n", " b"}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Llama3, "x = {y};\n"), (Words{"x", " =", " {", "y", "};\n"}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Llama3, "$hello"), (Words{"$hello"}));
}

// Qwen2's pattern is Llama 3's with \p{N} for \p{N}{1,3}: each digit alone.
TEST(TokenizerPreSplit, Qwen2PatternSplitsEveryDigit) {
    EXPECT_EQ(pre_tokenize(PreTokenizer::Qwen2, "Hello 12345 I'M"), (Words{"Hello", " ", "1", "2", "3", "4", "5", " I", "'M"}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Qwen2, "x = {y};\n"), (Words{"x", " =", " {", "y", "};\n"}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::Qwen2, "a\n\n b"), (Words{"a", "\n\n", " b"}));
}

// DeepSeek's lists of patterns, each refining the pieces of the one before
// (llama.cpp's fixtures for both pass in tokenizer_fixtures_test.cpp).
TEST(TokenizerPreSplit, DeepSeekPatterns) {
    EXPECT_EQ(pre_tokenize(PreTokenizer::DeepSeekCoder, "Hello  world\n123, ok"),
              (Words{"Hello", " ", " world", "\n", "1", "2", "3", ",", " ok"}));
    // deepseek-llm: numbers stay runs, trailing whitespace splits off, its letter class is explicit.
    EXPECT_EQ(pre_tokenize(PreTokenizer::DeepSeekLlm, "abc 123  "), (Words{"abc", " ", "123", "  "}));
    EXPECT_EQ(pre_tokenize(PreTokenizer::DeepSeekLlm, "x\xE4\xBD\xA0\xE5\xA5\xBD"),  // x你好
              (Words{"x", "\xE4\xBD\xA0\xE5\xA5\xBD"}));
    EXPECT_EQ(pre_tokenizer_from_name("deepseek-llm"), PreTokenizer::DeepSeekLlm);
    EXPECT_EQ(pre_tokenizer_from_name("deepseek-coder"), PreTokenizer::DeepSeekCoder);
    EXPECT_EQ(pre_tokenizer_from_name("falcon"), PreTokenizer::Falcon);
    EXPECT_EQ(pre_tokenizer_from_name("mpt"), PreTokenizer::Gpt2);
}

TEST(TokenizerPreSplit, DefaultList) {
    // Punctuation runs first, then gpt2, then number runs, then ASCII digit triples.
    EXPECT_EQ(pre_tokenize(PreTokenizer::Default, "a+b 12345"), (Words{"a", "+", "b", " ", "123", "45"}));
}

TEST(TokenizerPreSplit, MalformedUtf8BecomesReplacementChar) {
    EXPECT_EQ(pre_tokenize(PreTokenizer::Gpt2, "a\xFF"), (Words{"a", "\xEF\xBF\xBD"}));
    EXPECT_EQ(utf8::decode("\xE2\x82"), (std::vector<uint32_t>{0xFFFD, 0xFFFD}));
    EXPECT_EQ(utf8::decode("\xC0\x80"), (std::vector<uint32_t>{0}));  // overlong accepted, as llama.cpp
}

TEST(TokenizerPreSplit, NamesAndUnknownPre) {
    EXPECT_EQ(pre_tokenizer_from_name("smollm"), PreTokenizer::DigitsThenGpt2);
    EXPECT_EQ(pre_tokenizer_from_name("starcoder"), PreTokenizer::DigitsThenGpt2);
    EXPECT_EQ(pre_tokenizer_from_name("gpt-2"), PreTokenizer::Gpt2);
    EXPECT_EQ(pre_tokenizer_from_name("llama-bpe"), PreTokenizer::Llama3);
    EXPECT_EQ(pre_tokenizer_from_name(""), PreTokenizer::Default);
    try {
        pre_tokenizer_from_name("chatglm-bpe");
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'chatglm-bpe'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("smollm"), std::string::npos) << e.what();
    }
    EXPECT_THROW(load(bpe_vocab({}, "chatglm-bpe")), Error);
    EXPECT_EQ(pre_tokenizer_from_name("qwen2"), PreTokenizer::Qwen2);
}

TEST(TokenizerByteLevel, Alphabet) {
    EXPECT_EQ(byte_level::byte_to_cp(' '), 0x120u);
    EXPECT_EQ(byte_level::byte_to_cp('\n'), 0x10Au);
    EXPECT_EQ(byte_level::byte_to_cp('A'), static_cast<uint32_t>('A'));
    EXPECT_EQ(byte_level::byte_to_cp(0xAD), 0x143u);  // the 68th remapped byte
    for (int b = 0; b < 256; ++b) EXPECT_EQ(byte_level::cp_to_byte(byte_level::byte_to_cp(static_cast<uint8_t>(b))), b);
    EXPECT_FALSE(byte_level::cp_to_byte(0x144).has_value());
}

// ---- BPE merges ----

TEST(TokenizerBpe, MergesByRank) {
    auto l = load(bpe_vocab({"a b", "b c", "ab c"}, "gpt2"));
    EXPECT_EQ(l.tok->encode("abc", false, false), ids_of(*l.tok, {"abc"}));
    // "b c" outranks "a b" here: a + bc, and "a bc" is no merge.
    auto l2 = load(bpe_vocab({"b c", "a b", "ab c"}, "gpt2"));
    EXPECT_EQ(l2.tok->encode("abc", false, false), ids_of(*l2.tok, {"a", "bc"}));
}

TEST(TokenizerBpe, LeftmostOnTies) {
    auto l = load(bpe_vocab({"a a"}, "gpt2"));
    EXPECT_EQ(l.tok->encode("aaa", false, false), ids_of(*l.tok, {"aa", "a"}));
    EXPECT_EQ(l.tok->encode("aaaa", false, false), ids_of(*l.tok, {"aa", "aa"}));
}

TEST(TokenizerBpe, MergesStayInsideWords) {
    auto l = load(bpe_vocab({"\xC4\xA0 a", "a \xC4\xA0"}, "gpt2"));  // "Ġ a", "a Ġ"
    // " a" is one word: Ġa. "a " is two words ("a", " "), so "aĠ" never forms.
    EXPECT_EQ(l.tok->encode(" a", false, false), ids_of(*l.tok, {"\xC4\xA0" "a"}));
    EXPECT_EQ(l.tok->encode("a ", false, false), ids_of(*l.tok, {"a", "\xC4\xA0"}));
}

TEST(TokenizerBpe, AddSpecialUsesVocabularyFlags) {
    auto b = bpe_vocab({}, "gpt2", {{"<s>", 3}, {"</s>", 3}});
    b.u32("tokenizer.ggml.bos_token_id", 256).u32("tokenizer.ggml.eos_token_id", 257);
    auto l = load(b);
    EXPECT_FALSE(l.tok->add_bos());  // gpt2 default
    EXPECT_EQ(l.tok->encode("a", true, false), ids_of(*l.tok, {"a"}));
    auto b2 = bpe_vocab({}, "gpt2", {{"<s>", 3}, {"</s>", 3}});
    b2.u32("tokenizer.ggml.bos_token_id", 256).u32("tokenizer.ggml.eos_token_id", 257)
        .boolean("tokenizer.ggml.add_bos_token", true).boolean("tokenizer.ggml.add_eos_token", true);
    auto l2 = load(b2);
    EXPECT_EQ(l2.tok->encode("a", true, false), (std::vector<TokenId>{256, l2.tok->find_token("a"), 257}));
    EXPECT_TRUE(load(bpe_vocab({}, "llama-bpe", {{"<s>", 3}})).tok->add_bos());  // llama3 default
}

// ---- special tokens ----

TEST(TokenizerSpecial, ControlOnlyWithParseSpecialUserDefinedAlways) {
    auto l = load(bpe_vocab({}, "gpt2", {{"<|im_start|>", 3}, {"<u>", 4}}));
    const TokenId im_start = l.tok->find_token("<|im_start|>");
    const TokenId user = l.tok->find_token("<u>");
    const auto with = l.tok->encode("<|im_start|>x<u>", false, true);
    EXPECT_EQ(with, (std::vector<TokenId>{im_start, l.tok->find_token("x"), user}));
    const auto without = l.tok->encode("<|im_start|>x<u>", false, false);
    ASSERT_GT(without.size(), 3u);
    EXPECT_EQ(without.back(), user);
    EXPECT_EQ(std::count(without.begin(), without.end(), im_start), 0);
    EXPECT_EQ(l.tok->decode(without), "<|im_start|>x<u>");
}

TEST(TokenizerSpecial, LongestTokenFirst) {
    auto l = load(bpe_vocab({}, "gpt2", {{"<s>", 3}, {"<s><s>", 3}}));
    const TokenId one = l.tok->find_token("<s>"), two = l.tok->find_token("<s><s>");
    EXPECT_EQ(l.tok->encode("<s><s><s>y", false, true), (std::vector<TokenId>{two, one, l.tok->find_token("y")}));
}

TEST(TokenizerSpecial, PartitionFragments) {
    const std::vector<std::string> tokens = {"a", "<x>"};
    const std::vector<TokenAttr> attrs = {TokenAttr::Normal, TokenAttr::Control};
    const auto specials = collect_special_tokens(tokens, attrs);
    const auto f = partition_special("1<x><x>22<x>", specials, true);
    ASSERT_EQ(f.size(), 5u);
    EXPECT_TRUE(f[0].is_text());
    EXPECT_EQ(f[0].length, 1u);
    EXPECT_EQ(f[1].token, 1);
    EXPECT_EQ(f[2].token, 1);
    EXPECT_EQ(f[3].offset, 7u);
    EXPECT_EQ(f[3].length, 2u);
    EXPECT_EQ(f[4].token, 1);
    EXPECT_EQ(partition_special("1<x>", specials, false).size(), 1u);
    EXPECT_TRUE(partition_special("", specials, true).empty());
}

TEST(TokenizerSpecial, EndOfGenerationByName) {
    auto l = load(bpe_vocab({}, "gpt2", {{"<|endoftext|>", 1}, {"<|im_start|>", 3}, {"<|im_end|>", 3}}));
    const TokenId eot = l.tok->find_token("<|endoftext|>"), im_end = l.tok->find_token("<|im_end|>");
    EXPECT_TRUE(l.tok->is_end_of_generation(eot));
    EXPECT_TRUE(l.tok->is_end_of_generation(im_end));
    EXPECT_FALSE(l.tok->is_end_of_generation(l.tok->find_token("<|im_start|>")));
    EXPECT_FALSE(l.tok->is_end_of_generation(-1));
    // llama.cpp turns such a name into a control token whatever its stored type.
    EXPECT_EQ(l.tok->token_attr(eot), TokenAttr::Control);
    EXPECT_EQ(l.tok->eot(), eot);  // lowest id among the end-of-turn names
}

// ---- token_to_piece / decode ----

TEST(TokenizerPiece, BpeRoundTrips) {
    auto l = load(bpe_vocab({"\xC4\xA0 t", "h e", "\xC4\xA0t he"}, "smollm", {{"<|im_end|>", 3}}));
    const std::vector<std::string> texts = {
        "the", " the theme", "a\tb\n\nc  d   ", "caf\xC3\xA9 na\xC3\xAFve", "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C",
        "\xF0\x9F\x98\x80\xF0\x9F\x9A\x80", "12345 67", "x\r\ny", std::string("nul\0byte", 8), "\x7F\xC2\x80",
    };
    for (const auto& s : texts) EXPECT_EQ(l.tok->decode(l.tok->encode(s, false, false)), s) << s;
    // Malformed UTF-8: like llama.cpp, each bad byte is read as U+FFFD.
    EXPECT_EQ(l.tok->decode(l.tok->encode("a\xFF" "b\xC3(\xE2\x82", false, false)),
              "a\xEF\xBF\xBD" "b\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD");
    const TokenId end = l.tok->find_token("<|im_end|>");
    EXPECT_EQ(l.tok->token_to_piece(end, true), "<|im_end|>");
    EXPECT_EQ(l.tok->token_to_piece(end, false), "");
    EXPECT_EQ(l.tok->token_to_piece(l.tok->find_token("\xC4\xA0the"), true), " the");
}

GgufBuilder spm_vocab() {
    // <unk>, <s>, </s>, 256 byte tokens, then pieces with scores.
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3};
    std::vector<float> scores = {0, 0, 0};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        tokens.push_back(name);
        types.push_back(6);
        scores.push_back(0);
    }
    const std::vector<std::pair<std::string, float>> pieces = {
        {"\xE2\x96\x81", -1}, {"a", -2}, {"b", -2}, {"\xE2\x96\x81" "a", -3}, {"ab", -4}, {"\xE2\x96\x81" "ab", -5}, {"c", -2}};
    for (const auto& [p, s] : pieces) {
        tokens.push_back(p);
        types.push_back(1);
        scores.push_back(s);
    }
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", tokens).i32s("tokenizer.ggml.token_type", types)
        .f32s("tokenizer.ggml.scores", scores);
    return b;
}

TEST(TokenizerSpm, ScoresSpacePrefixAndByteFallback) {
    auto l = load(spm_vocab());
    const Tokenizer& t = *l.tok;
    EXPECT_EQ(t.model_name(), "llama");
    EXPECT_TRUE(t.add_bos());  // SPM default
    EXPECT_EQ(t.bos(), 1);
    EXPECT_EQ(t.eos(), 2);
    // "▁a" (-3) beats "ab" (-4), then "▁a"+"b" = "▁ab" exists.
    EXPECT_EQ(t.encode("ab", false, false), ids_of(t, {"\xE2\x96\x81" "ab"}));
    EXPECT_EQ(t.encode("ab", true, false), (std::vector<TokenId>{1, t.find_token("\xE2\x96\x81" "ab")}));
    // 'z' is no piece: byte fallback.
    EXPECT_EQ(t.encode("cz", false, false), ids_of(t, {"\xE2\x96\x81", "c", "<0x7A>"}));
    EXPECT_EQ(t.token_to_piece(t.find_token("<0x7A>")), "z");
    EXPECT_EQ(t.token_to_piece(t.find_token("\xE2\x96\x81" "ab")), " ab");
    EXPECT_EQ(t.token_to_piece(1, false), "");
    EXPECT_EQ(t.token_to_piece(1, true), "<s>");
}

TEST(TokenizerSpm, RoundTripsIncludingMalformedUtf8) {
    auto l = load(spm_vocab());
    const std::vector<std::string> texts = {"ab c", "  two  spaces", "tab\there\nnewline", "caf\xC3\xA9",
                                            "\xF0\x9F\xA6\x99", "bad \xFF\xFE" "bytes \xC3( \xE2\x82", std::string("\0x", 2)};
    // The space prefix is part of the tokens; the bytes are kept exactly.
    for (const auto& s : texts) EXPECT_EQ(l.tok->decode(l.tok->encode(s, false, false)), " " + s) << s;
    // llama.cpp quirk kept on purpose: a bad lead byte announcing 4 bytes
    // swallows the following "▁" (an escaped space) into one byte-fallback
    // symbol, so that space comes back as the bytes of U+2581
    // (llama-tokenize on ggml-vocab-llama-spm: ... 258 257 229 153 132 ...).
    EXPECT_EQ(l.tok->decode(l.tok->encode("\xFE x", false, false)), " \xFE\xE2\x96\x81x");
}

TEST(TokenizerSpm, NoSpacePrefixWhenDisabled) {
    auto b = spm_vocab();
    b.boolean("tokenizer.ggml.add_space_prefix", false);
    auto l = load(b);
    EXPECT_EQ(l.tok->encode("ab", false, false), ids_of(*l.tok, {"ab"}));
}

TEST(TokenizerLoad, ErrorsNameTheKey) {
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "gpt2").strs("tokenizer.ggml.tokens", {"a", "b"}).i32s("tokenizer.ggml.token_type", {1})
        .strs("tokenizer.ggml.merges", {});
    try {
        load(b);
        FAIL() << "no exception";
    } catch (const gguf::GgufError& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.token_type"), std::string::npos) << e.what();
    }
    GgufBuilder unsupported;
    unsupported.str("tokenizer.ggml.model", "bert").strs("tokenizer.ggml.tokens", {"a"});
    EXPECT_THROW(load(unsupported), Error);
    GgufBuilder bad_id;
    bad_id.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"a"}).u32("tokenizer.ggml.bos_token_id", 5);
    EXPECT_THROW(load(bad_id), gguf::GgufError);
}

// ---- chat template ----

TEST(ChatTemplate, SystemAndUser) {
    EXPECT_EQ(apply_chatml({{"system", "Be brief."}, {"user", "Hi!"}}, true),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, UserOnlyGetsDefaultSystem) {
    EXPECT_EQ(apply_chatml({{"user", "What is 2+2?"}}, true),
              "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
              "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(apply_chatml({{"user", "x"}, {"assistant", "y"}}, false, "S"),
              "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\ny<|im_end|>\n");
    EXPECT_EQ(apply_chatml({}, true), "<|im_start|>assistant\n");  // the template's loop adds nothing
}

// Gemma 3's template (its tokenizer_config.json): no system role, the system
// text opens the first user turn; the assistant is "model".
TEST(ChatTemplate, GemmaTurns) {
    EXPECT_EQ(apply_gemma_chat({{"user", "Hi!"}}, true), "<start_of_turn>user\nHi!<end_of_turn>\n<start_of_turn>model\n");
    EXPECT_EQ(apply_gemma_chat({{"system", "Be brief."}, {"user", "Hi!"}, {"assistant", "Hello."}, {"user", "Bye"}}, false),
              "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
              "<start_of_turn>user\nBye<end_of_turn>\n");
    EXPECT_EQ(chat_format_for("gemma3"), ChatFormat::Gemma);
    EXPECT_EQ(chat_format_for("llama"), ChatFormat::ChatML);
    EXPECT_EQ(apply_chat(ChatFormat::Gemma, {{"user", "x"}}, true), apply_gemma_chat({{"user", "x"}}, true));
}

}  // namespace
}  // namespace kvscope
