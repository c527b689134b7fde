// Loading a model from GGUF metadata and tensors, on tiny llama models built
// in memory (tests/support/tiny_model.h): the configuration read back, the
// weights bound, and every refusal naming the key or tensor at fault.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "gguf/gguf_file.h"
#include "backend/cpu/cpu_backend.h"
#include "model/model.h"
#include "session/session.h"
#include "support/tiny_families.h"
#include "support/tiny_model.h"
#include "util/error.h"

using namespace kvscope;
using kvscope::test::LoadedTinyModel;
using kvscope::test::load_tiny_model;
using kvscope::test::TinyModelOptions;

namespace {

// Loading `o` must throw GgufError (a kvscope::Error) whose one-line message
// contains every one of `parts`.
void expect_refused(const TinyModelOptions& o, std::initializer_list<std::string> parts) {
    try {
        load_tiny_model(o);
        ADD_FAILURE() << "the model loaded; expected a GgufError mentioning '" << *parts.begin() << "'";
    } catch (const gguf::GgufError& e) {
        const std::string msg = e.what();
        for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "message must be one line: " << msg;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected gguf::GgufError, got another exception: " << e.what();
    }
}

}  // namespace

TEST(ModelLoad, TinyModelConfigMatchesMetadata) {
    TinyModelOptions o;
    // Values other than the engine's defaults, so each must really be read.
    o.rope_freq_base = 500000.0f;
    o.rms_eps = 1e-6f;
    o.n_ctx = 64;
    const LoadedTinyModel m = load_tiny_model(o);
    const ModelConfig& c = m->config();
    EXPECT_EQ(c.architecture, "llama");
    EXPECT_EQ(c.name, "tiny-llama");
    EXPECT_EQ(c.n_embd, 32);
    EXPECT_EQ(c.n_layer, 2);
    EXPECT_EQ(c.n_head, 4);
    EXPECT_EQ(c.n_head_kv, 2);
    EXPECT_EQ(c.head_dim, 16);
    EXPECT_EQ(c.n_ff, 48);
    EXPECT_EQ(c.n_ctx_train, 64);
    EXPECT_EQ(c.n_vocab, 39);
    EXPECT_EQ(c.rope_dim, 16);
    EXPECT_EQ(c.rope_freq_base, 500000.0f);
    EXPECT_EQ(c.rms_eps, 1e-6f);
    EXPECT_EQ(c.rope_layout, RopeLayout::Normal);
    EXPECT_EQ(c.gqa_group(), 2);
    EXPECT_EQ(c.q_dim(), 64);
    EXPECT_EQ(c.kv_dim(), 32);
    EXPECT_EQ(m->chat_template(), "");
}

TEST(ModelLoad, OptionalKeysTakeTheirDefaults) {
    TinyModelOptions o;
    o.n_head_kv = 4;  // without head_count_kv the model is multi-head: n_head_kv = n_head
    o.drop_keys = {"general.name", "llama.attention.head_count_kv", "llama.rope.dimension_count",
                   "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon"};
    const LoadedTinyModel m = load_tiny_model(o);
    const ModelConfig& c = m->config();
    EXPECT_EQ(c.name, "");
    EXPECT_EQ(c.n_head_kv, 4);
    EXPECT_EQ(c.gqa_group(), 1);
    EXPECT_EQ(c.rope_dim, c.head_dim);
    EXPECT_EQ(c.rope_freq_base, 10000.0f);
    EXPECT_EQ(c.rms_eps, 1e-5f);
}

TEST(ModelLoad, KeyLengthSetsTheHeadSize) {
    TinyModelOptions o;
    o.key_length = 32;  // head size 32 with 4 heads of a 32-wide model: Q is 128 wide
    const LoadedTinyModel m = load_tiny_model(o);
    EXPECT_EQ(m->config().head_dim, 32);
    EXPECT_EQ(m->config().rope_dim, 32);
    EXPECT_EQ(m->config().q_dim(), 128);
    EXPECT_EQ(m->weights().layers[0].wq.rows, 128);
    EXPECT_EQ(m->weights().layers[0].wo.cols, 128);
}

TEST(ModelLoad, HeadSizeDefaultsToWidthOverHeads) {
    TinyModelOptions o;
    o.key_length = std::nullopt;
    o.n_embd = 64;  // 64 / 4 heads = 16
    const LoadedTinyModel m = load_tiny_model(o);
    EXPECT_EQ(m->config().head_dim, 16);
    EXPECT_EQ(m->config().q_dim(), 64);
    EXPECT_EQ(m->config().kv_dim(), 32);
}

TEST(ModelLoad, WeightsAreBoundWithTheirShapesAndTypes) {
    for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::Q8_0}) {
        SCOPED_TRACE(tensor_type_name(type));
        TinyModelOptions o;
        o.matrix_type = type;
        o.n_ff = 64;  // Q8_0 rows must be a multiple of 32
        const LoadedTinyModel m = load_tiny_model(o);
        const ModelWeights& w = m->weights();
        ASSERT_EQ(w.layers.size(), 2u);
        EXPECT_EQ(w.token_embd.type, type);
        EXPECT_EQ(w.token_embd.cols, 32);
        EXPECT_EQ(w.token_embd.rows, 39);
        for (const LayerWeights& L : w.layers) {
            for (const WeightMatrix* mat : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
                EXPECT_EQ(mat->type, type) << mat->name;
                EXPECT_EQ(mat->row_stride, test::GgufWriter::tensor_bytes({static_cast<uint64_t>(mat->cols)}, type))
                    << mat->name;
            }
            EXPECT_EQ(L.wq.cols, 32);
            EXPECT_EQ(L.wq.rows, 64);
            EXPECT_EQ(L.wk.rows, 32);
            EXPECT_EQ(L.wv.rows, 32);
            EXPECT_EQ(L.wo.cols, 64);
            EXPECT_EQ(L.wo.rows, 32);
            EXPECT_EQ(L.w_gate.rows, 64);
            EXPECT_EQ(L.w_up.rows, 64);
            EXPECT_EQ(L.w_down.cols, 64);
            EXPECT_EQ(L.w_down.rows, 32);
            EXPECT_EQ(L.attn_norm.size(), 32u);
            EXPECT_EQ(L.ffn_norm.size(), 32u);
        }
        // The norm vectors hold the file's values.
        EXPECT_EQ(w.layers[1].ffn_norm, m.values("blk.1.ffn_norm.weight"));
        EXPECT_EQ(w.output_norm, m.values("output_norm.weight"));
        size_t total = 0;
        for (const auto& t : m->file().tensors()) total += t.n_bytes;
        EXPECT_EQ(w.total_bytes, total);
        EXPECT_EQ(m->file().tensors().size(), 3u + 2u * 9u);
    }
}

TEST(ModelLoad, OutputIsTiedWhenOutputWeightIsAbsent) {
    TinyModelOptions o;
    o.separate_output = false;
    const LoadedTinyModel tied = load_tiny_model(o);
    const ModelWeights& w = tied->weights();
    EXPECT_TRUE(w.tied_output);
    EXPECT_EQ(w.output.data, w.token_embd.data);
    EXPECT_EQ(w.output.rows, 39);
    EXPECT_EQ(w.output.cols, 32);
    EXPECT_EQ(tied->file().find_tensor("output.weight"), nullptr);
}

TEST(ModelLoad, OutputIsSeparateWhenOutputWeightIsPresent) {
    const LoadedTinyModel sep = load_tiny_model();
    const ModelWeights& w = sep->weights();
    EXPECT_FALSE(w.tied_output);
    EXPECT_EQ(w.output.name, "output.weight");
    EXPECT_EQ(w.output.data, sep->file().tensor("output.weight").data);
    EXPECT_NE(w.output.data, w.token_embd.data);
    EXPECT_EQ(w.output.rows, 39);
}

TEST(ModelLoad, TinyTokenizerLoads) {
    const LoadedTinyModel m = load_tiny_model();
    const Tokenizer& t = m->tokenizer();
    EXPECT_EQ(t.n_vocab(), 39);
    EXPECT_EQ(t.model_name(), "gpt2");
    EXPECT_EQ(t.pre_name(), "gpt2");
    EXPECT_EQ(t.bos(), test::kTinyEndOfText);
    EXPECT_EQ(t.eos(), test::kTinyEndOfText);
    EXPECT_EQ(t.token_attr(test::kTinyEndOfText), TokenAttr::Control);
    EXPECT_EQ(t.token_attr(0), TokenAttr::Normal);
    EXPECT_TRUE(t.is_end_of_generation(test::kTinyEndOfText));
    // "ab" merges (the one merge rule); " a" is the byte-level space then 'a'.
    EXPECT_EQ(t.encode("ab a", false, false), (std::vector<TokenId>{37, 36, 0}));
    EXPECT_EQ(t.decode({37, 36, 0}), "ab a");
}

// --- refusals ---

TEST(ModelLoad, RefusesMissingBlockCount) {
    TinyModelOptions o;
    o.drop_keys = {"llama.block_count"};
    expect_refused(o, {"llama.block_count"});
}

TEST(ModelLoad, RefusesMissingEmbeddingLength) {
    TinyModelOptions o;
    o.drop_keys = {"llama.embedding_length"};
    expect_refused(o, {"llama.embedding_length"});
}

TEST(ModelLoad, RefusesMissingOtherRequiredKeys) {
    for (const char* key : {"general.architecture", "llama.attention.head_count", "llama.feed_forward_length",
                            "llama.context_length", "tokenizer.ggml.tokens", "tokenizer.ggml.model"}) {
        SCOPED_TRACE(key);
        TinyModelOptions o;
        o.drop_keys = {key};
        expect_refused(o, {key});
    }
}

TEST(ModelLoad, RefusesMissingTensor) {
    TinyModelOptions o;
    o.drop_tensors = {"blk.1.ffn_up.weight"};
    expect_refused(o, {"blk.1.ffn_up.weight", "missing"});
}

TEST(ModelLoad, RefusesMissingNormTensor) {
    TinyModelOptions o;
    o.drop_tensors = {"output_norm.weight"};
    expect_refused(o, {"output_norm.weight", "missing"});
}

TEST(ModelLoad, RefusesWrongShape) {
    TinyModelOptions o;
    o.tensor_dims["blk.0.attn_k.weight"] = {32, 64};  // 4 KV heads' worth where the metadata says 2
    expect_refused(o, {"blk.0.attn_k.weight", "shape", "[32, 64]", "[32, 32]"});
}

TEST(ModelLoad, RefusesTransposedMatrix) {
    TinyModelOptions o;
    o.tensor_dims["blk.1.ffn_down.weight"] = {32, 48};  // [n_embd, n_ff] instead of [n_ff, n_embd]
    expect_refused(o, {"blk.1.ffn_down.weight", "shape", "[32, 48]", "[48, 32]"});
}

TEST(ModelLoad, RefusesWrongNormShape) {
    TinyModelOptions o;
    o.tensor_dims["blk.0.attn_norm.weight"] = {32, 1};
    expect_refused(o, {"blk.0.attn_norm.weight", "shape"});
}

// A type the reader can size loads; the CPU backend refuses to compute it, in
// one line naming the tensor and type, and so does a session on it.
TEST(ModelLoad, TheBackendRefusesATypeItDoesNotCompute) {
    TinyModelOptions o;
    o.tensor_type_ids["blk.0.ffn_gate.weight"] = 20;  // IQ4_NL: the reader knows its size, the CPU cannot compute it
    const LoadedTinyModel m = load_tiny_model(o);
    CpuBackend cpu(*m.model, 1);
    const std::string why = cpu.refusal(*m.model);
    for (const char* part : {"blk.0.ffn_gate.weight", "IQ4_NL", "CPU backend does not compute", "F32", "Q5_0", "Q8_0", "Q4_K"})
        EXPECT_NE(why.find(part), std::string::npos) << "'" << part << "' not in: " << why;
    EXPECT_EQ(why.find('\n'), std::string::npos);
    EXPECT_THROW(Session(*m.model, std::make_unique<CpuBackend>(*m.model, 1), SessionOptions{}), Error);
    // The tiny model as built (F32/F16/Q8_0...) is computed.
    const LoadedTinyModel ok = load_tiny_model(TinyModelOptions{});
    EXPECT_EQ(CpuBackend(*ok.model, 1).refusal(*ok.model), "");
}

// qwen2: biases on Q, K and V are bound (and required), NeoX RoPE, named in the block extras.
TEST(ModelLoad, Qwen2BindsItsBiases) {
    const LoadedTinyModel m = load_tiny_model(test::tiny_family_options("qwen2-f32"));
    const ModelConfig& c = m->config();
    EXPECT_TRUE(c.qkv_bias);
    EXPECT_EQ(c.rope_layout, RopeLayout::Neox);
    EXPECT_NE(c.describe_block_extras().find("Q/K/V biases"), std::string::npos) << c.describe_block_extras();
    const LayerWeights& l1 = m->weights().layers[1];
    EXPECT_EQ(l1.bq, m.values("blk.1.attn_q.bias"));
    EXPECT_EQ(l1.bk, m.values("blk.1.attn_k.bias"));
    EXPECT_EQ(l1.bv, m.values("blk.1.attn_v.bias"));
    EXPECT_TRUE(load_tiny_model(TinyModelOptions{})->weights().layers[0].bq.empty());  // llama: none
    TinyModelOptions missing = test::tiny_family_options("qwen2-f32");
    missing.drop_tensors = {"blk.1.attn_v.bias"};
    expect_refused(missing, {"blk.1.attn_v.bias", "missing"});
}

// Llama 3's rope_freqs: bound when present, refused when a factor could not divide an angle.
TEST(ModelLoad, RopeFrequencyFactorsAreBoundAndChecked) {
    TinyModelOptions o = test::tiny_family_options("llama3-f32");
    const LoadedTinyModel m = load_tiny_model(o);
    EXPECT_EQ(m->weights().rope_freq_factors, o.rope_freq_factors);
    ASSERT_EQ(o.rope_freq_factors.size(), 8u);
    EXPECT_EQ(o.rope_freq_factors.front(), 1.0f);  // the fastest pair turns as before
    EXPECT_EQ(o.rope_freq_factors.back(), 8.0f);   // the slowest ones 8 times slower
    EXPECT_TRUE(load_tiny_model(TinyModelOptions{})->weights().rope_freq_factors.empty());
    o.rope_freq_factors[3] = 0.0f;
    expect_refused(o, {"rope_freqs.weight", "positive"});
    o.rope_freq_factors = {1.0f, 2.0f};  // 2 where a head of 16 rotates 8 pairs
    expect_refused(o, {"rope_freqs.weight", "shape"});
}

// phi3: the fused projections are split by rows (Q, K, V; gate, up), and every
// layer is local with the file's window.
TEST(ModelLoad, Phi3SplitsItsFusedProjectionsAndWindowsEveryLayer) {
    const LoadedTinyModel m = load_tiny_model(test::tiny_family_options("phi3-f32"));
    const ModelConfig& c = m->config();
    EXPECT_EQ(c.native_window, static_cast<int32_t>(test::kTinyPhi3Window));
    for (int32_t l = 0; l < c.n_layer; ++l) EXPECT_EQ(c.layer_window(l), c.native_window) << l;
    EXPECT_EQ(c.describe_attention_layers(), "all 2 local (window 24, RoPE base 10000)");
    EXPECT_TRUE(c.scale_query);
    const LayerWeights& l1 = m->weights().layers[1];
    const std::vector<float>& qkv = m.values("blk.1.attn_qkv.weight");  // [Q + 2 KV rows][64]
    const auto row0 = [](const WeightMatrix& w) { return reinterpret_cast<const float*>(w.row(0))[0]; };
    EXPECT_EQ(l1.wq.rows, c.q_dim());
    EXPECT_EQ(row0(l1.wq), qkv[0]);
    EXPECT_EQ(row0(l1.wk), qkv[static_cast<size_t>(c.q_dim()) * 64]);
    EXPECT_EQ(row0(l1.wv), qkv[static_cast<size_t>(c.q_dim() + c.kv_dim()) * 64]);
    const std::vector<float>& gate_up = m.values("blk.1.ffn_up.weight");  // [2 n_ff rows][64]
    EXPECT_EQ(l1.w_gate.rows, c.n_ff);
    EXPECT_EQ(row0(l1.w_gate), gate_up[0]);
    EXPECT_EQ(row0(l1.w_up), gate_up[static_cast<size_t>(c.n_ff) * 64]);
    EXPECT_NE(l1.w_up.name.find("up rows"), std::string::npos) << l1.w_up.name;
    TinyModelOptions no_window = test::tiny_family_options("phi3-f32");
    no_window.sliding_window.reset();
    expect_refused(no_window, {"phi3.attention.sliding_window"});
}

TEST(ModelLoad, RefusesUnsupportedArchitecture) {
    TinyModelOptions o;
    o.architecture = "gpt2";
    expect_refused(o, {"'gpt2'", "not supported", "llama"});
}

TEST(ModelLoad, RefusesHeadCountNotAMultipleOfKvHeads) {
    TinyModelOptions o;
    o.n_head = 4;
    o.n_head_kv = 3;
    expect_refused(o, {"llama.attention.head_count (4)", "head_count_kv (3)", "multiple"});
}

TEST(ModelLoad, RefusesHeadSizeNotAMultipleOf16) {
    TinyModelOptions o;
    o.key_length = std::nullopt;
    o.n_head = 4;
    o.n_head_kv = 2;
    o.n_embd = 40;  // 40 / 4 heads = head size 10
    expect_refused(o, {"head size 10", "multiple of 16"});
    TinyModelOptions k;
    k.key_length = 24;
    expect_refused(k, {"head size 24", "multiple of 16"});
}

TEST(ModelLoad, RefusesZeroBlockCount) {
    TinyModelOptions o;
    o.n_layer = 0;
    expect_refused(o, {"llama.block_count", "= 0"});
}

TEST(ModelLoad, RefusesTokenizerSizeDifferentFromModelVocab) {
    // The model's vocabulary is the token list (39 entries); embedding and
    // output matrices with 40 rows do not match it.
    TinyModelOptions o;
    o.tensor_vocab = 40;
    expect_refused(o, {"token_embd.weight", "shape", "[32, 40]", "[32, 39]"});
    // Only the output matrix disagrees.
    TinyModelOptions out;
    out.tensor_dims["output.weight"] = {32, 38};
    expect_refused(out, {"output.weight", "shape", "[32, 38]", "[32, 39]"});
}

TEST(ModelLoad, RefusesDeclaredVocabSizeDifferentFromTokenList) {
    TinyModelOptions agrees;
    agrees.vocab_size_key = 39;
    EXPECT_NO_THROW(load_tiny_model(agrees));
    TinyModelOptions o;
    o.vocab_size_key = 41;
    expect_refused(o, {"llama.vocab_size", "41", "39 tokens"});
}

TEST(ModelLoad, RefusalsAreKvscopeErrors) {
    TinyModelOptions o;
    o.drop_tensors = {"blk.0.attn_q.weight"};
    EXPECT_THROW(load_tiny_model(o), Error);
}
