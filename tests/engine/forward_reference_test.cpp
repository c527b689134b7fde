// The CPU backend's forward pass against an independent reference: the llama
// decoder written out below in plain double-precision loops, straight from
// the maths, run on tiny random models (tests/support/tiny_model.h). It shares
// no code with the engine: it reads the weight values the builder wrote and
// the hyperparameters from the builder's options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "session/session.h"
#include "support/tiny_model.h"

using namespace kvscope;
using kvscope::test::LoadedTinyModel;
using kvscope::test::load_tiny_model;
using kvscope::test::TinyModelOptions;

namespace {

using Vec = std::vector<double>;
using Logits = std::vector<std::vector<double>>;  // [position][n_vocab]

// Deliberate mistakes the reference can make, to show the comparison would
// catch them in the engine (a test that cannot fail proves nothing).
enum class Variant { Llama, NeoxRope, NoRope, InterleavedGqa };

// The llama decoder in double precision.
class Reference {
public:
    explicit Reference(const LoadedTinyModel& m, Variant variant = Variant::Llama)
        : o_(m.source->options), m_(m), variant_(variant), hd_(static_cast<int>(test::tiny_head_dim(o_))) {}

    // Logits after each token of `tokens`, positions 0, 1, ...
    Logits run(const std::vector<TokenId>& tokens) {
        const int E = static_cast<int>(o_.n_embd), L = static_cast<int>(o_.n_layer);
        const int H = static_cast<int>(o_.n_head), HKV = static_cast<int>(o_.n_head_kv);
        keys_.assign(static_cast<size_t>(L), {});
        values_.assign(static_cast<size_t>(L), {});
        Logits out;
        for (size_t p = 0; p < tokens.size(); ++p) {
            const std::vector<float>& emb = m_.values("token_embd.weight");
            Vec x(emb.begin() + static_cast<long>(tokens[p]) * E, emb.begin() + (static_cast<long>(tokens[p]) + 1) * E);
            for (int l = 0; l < L; ++l) {
                const std::string b = "blk." + std::to_string(l) + ".";
                const Vec xn = rms_norm(x, m_.values(b + "attn_norm.weight"));
                Vec q = matvec(b + "attn_q.weight", xn), k = matvec(b + "attn_k.weight", xn);
                const Vec v = matvec(b + "attn_v.weight", xn);
                for (int h = 0; h < H; ++h) rope(q.data() + h * hd_, static_cast<int>(p));
                for (int h = 0; h < HKV; ++h) rope(k.data() + h * hd_, static_cast<int>(p));
                keys_[static_cast<size_t>(l)].push_back(k);
                values_[static_cast<size_t>(l)].push_back(v);
                Vec o(static_cast<size_t>(H * hd_), 0.0);
                for (int h = 0; h < H; ++h) {
                    const int kvh = variant_ == Variant::InterleavedGqa ? h % HKV : h / (H / HKV);
                    Vec s(p + 1);
                    double max = -INFINITY;
                    for (size_t t = 0; t <= p; ++t) {
                        double d = 0;
                        for (int i = 0; i < hd_; ++i)
                            d += q[static_cast<size_t>(h * hd_ + i)] * keys_[static_cast<size_t>(l)][t][static_cast<size_t>(kvh * hd_ + i)];
                        s[t] = d / std::sqrt(static_cast<double>(hd_));
                        max = std::max(max, s[t]);
                    }
                    double sum = 0;
                    for (double& e : s) sum += (e = std::exp(e - max));
                    for (size_t t = 0; t <= p; ++t)
                        for (int i = 0; i < hd_; ++i)
                            o[static_cast<size_t>(h * hd_ + i)] +=
                                s[t] / sum * values_[static_cast<size_t>(l)][t][static_cast<size_t>(kvh * hd_ + i)];
                }
                add_to(x, matvec(b + "attn_output.weight", o));
                const Vec xn2 = rms_norm(x, m_.values(b + "ffn_norm.weight"));
                const Vec g = matvec(b + "ffn_gate.weight", xn2), u = matvec(b + "ffn_up.weight", xn2);
                Vec a(g.size());
                for (size_t i = 0; i < g.size(); ++i) a[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
                add_to(x, matvec(b + "ffn_down.weight", a));
            }
            const Vec xf = rms_norm(x, m_.values("output_norm.weight"));
            out.push_back(matvec(o_.separate_output ? "output.weight" : "token_embd.weight", xf));
        }
        return out;
    }

private:
    Vec rms_norm(const Vec& x, const std::vector<float>& w) const {
        double ss = 0;
        for (double e : x) ss += e * e;
        const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + static_cast<double>(o_.rms_eps));
        Vec y(x.size());
        for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
        return y;
    }
    // y = W·x, W stored [rows][cols] (rows = output features).
    Vec matvec(const std::string& name, const Vec& x) const {
        const std::vector<float>& w = m_.values(name);
        const size_t cols = x.size(), rows = w.size() / cols;
        Vec y(rows, 0.0);
        for (size_t r = 0; r < rows; ++r)
            for (size_t c = 0; c < cols; ++c) y[r] += static_cast<double>(w[r * cols + c]) * x[c];
        return y;
    }
    static void add_to(Vec& x, const Vec& d) {
        for (size_t i = 0; i < x.size(); ++i) x[i] += d[i];
    }
    // θ_i = p · base^(−2i/rope_dim); "normal" layout rotates (x[2i], x[2i+1]).
    void rope(double* head, int p) const {
        if (variant_ == Variant::NoRope) return;
        const int half = hd_ / 2;
        for (int i = 0; i < half; ++i) {
            const double theta = p * std::pow(static_cast<double>(o_.rope_freq_base), -2.0 * i / hd_);
            double* a = variant_ == Variant::NeoxRope ? head + i : head + 2 * i;
            double* b = variant_ == Variant::NeoxRope ? head + i + half : head + 2 * i + 1;
            const double x0 = *a, x1 = *b;
            *a = x0 * std::cos(theta) - x1 * std::sin(theta);
            *b = x0 * std::sin(theta) + x1 * std::cos(theta);
        }
    }

    const TinyModelOptions& o_;
    const LoadedTinyModel& m_;
    Variant variant_;
    int hd_;
    std::vector<std::vector<Vec>> keys_, values_;  // [layer][position][n_head_kv * head_dim]
};

// The test sequence: BOS, then letters, digits, "ab", the space token (12 tokens).
const std::vector<TokenId> kSequence = {test::kTinyEndOfText, 7, 0, 19, 37, 36, 4, 11, 25, 30, 2, 14};

std::unique_ptr<Session> make_session(const Model& m, int threads, int32_t prefill_batch = 64) {
    SessionOptions so;
    so.prefill_batch = prefill_batch;
    return std::make_unique<Session>(m, std::make_unique<CpuBackend>(m, threads), so);
}

// KVScope's logits at every position: prefill of the first token, then one
// forced step per token (each step feeds one token: the decode path).
std::vector<std::vector<float>> stepwise_logits(const Model& m, const std::vector<TokenId>& seq, int threads) {
    auto s = make_session(m, threads);
    std::vector<std::vector<float>> out;
    s->prefill({seq[0]});
    out.push_back(s->logits());
    // A step feeds the token forced by the step before it (steps are lazy), so
    // after step(seq[i + 1]) the logits are those of position i.
    s->step(seq[1]);
    for (size_t i = 2; i <= seq.size(); ++i) {
        s->step(i < seq.size() ? seq[i] : seq[0]);
        out.push_back(s->logits());
    }
    return out;
}

// KVScope's logits at every position from prefills of each prefix (the batch path).
std::vector<std::vector<float>> prefix_prefill_logits(const Model& m, const std::vector<TokenId>& seq, int threads,
                                                      int32_t batch = 64) {
    auto s = make_session(m, threads, batch);
    std::vector<std::vector<float>> out;
    for (size_t n = 1; n <= seq.size(); ++n) {
        s->prefill(std::vector<TokenId>(seq.begin(), seq.begin() + static_cast<long>(n)));
        out.push_back(s->logits());
    }
    return out;
}

int argmax_of(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }
int argmax_of(const std::vector<float>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

// Error of one logit vector relative to the reference's scale: max|a − r| / max|r|.
double relative_error(const std::vector<float>& got, const std::vector<double>& ref) {
    double err = 0, scale = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        err = std::max(err, std::fabs(static_cast<double>(got[i]) - ref[i]));
        scale = std::max(scale, std::fabs(ref[i]));
    }
    return err / scale;
}

// Compares every position; returns the largest relative error seen.
double expect_matches(const std::vector<std::vector<float>>& got, const Logits& ref, double tolerance) {
    EXPECT_EQ(got.size(), ref.size());
    double worst = 0;
    for (size_t p = 0; p < std::min(got.size(), ref.size()); ++p) {
        EXPECT_EQ(got[p].size(), ref[p].size());
        const double e = relative_error(got[p], ref[p]);
        worst = std::max(worst, e);
        EXPECT_LE(e, tolerance) << "position " << p;
        // Argmax: equal, unless the reference's top two are closer than the
        // tolerance band (2 × tolerance × scale); then KVScope's choice must at
        // least lie within that band of the reference's best.
        double scale = 0, best = -INFINITY, second = -INFINITY;
        for (double v : ref[p]) {
            scale = std::max(scale, std::fabs(v));
            if (v > best) {
                second = best;
                best = v;
            } else {
                second = std::max(second, v);
            }
        }
        const double band = 2 * tolerance * scale;
        if (best - second > band)
            EXPECT_EQ(argmax_of(got[p]), argmax_of(ref[p])) << "position " << p;
        else
            EXPECT_GE(ref[p][static_cast<size_t>(argmax_of(got[p]))], best - band) << "position " << p << " (near tie)";
    }
    return worst;
}

// Tolerances, relative to the largest |logit| at each position. Measured on
// the default tiny model (seed 20240611), with the worst over seeds 1..40 in
// brackets; every path (decode steps, prefills, 1 or 2 threads) alike.
//
// F32 weights: measured 5.7e-4 [1.4e-3]. KVScope rounds Q, K, V and the
// attention probabilities to f16 (llama.cpp's f16 KV cache; relative step
// 2^-11 ≈ 4.9e-4) where the reference keeps doubles. 3e-3 is 5× the
// measurement (2× the worst seed) and still ~250× below what a real mistake
// gives (wrong RoPE layout, no RoPE, wrong GQA mapping: ≥ 0.79, checked in
// ReferenceTellsLayoutMistakesApart).
constexpr double kF32Tolerance = 3e-3;
// F16 weights (the reference uses the same f16 values): measured 7.6e-4
// [1.7e-3]; the activations meet the weights as f16 too, in KVScope only.
constexpr double kF16Tolerance = 4e-3;
// Q8_0 weights (the reference uses the dequantised values): measured 2.2e-2
// [6.1e-2]. KVScope, as llama.cpp, quantises every activation vector to Q8_0
// before its product (per element up to amax/254, ~0.5 % of a typical value),
// and that error goes through seven products per layer. (A reference that
// quantised its activations the same way only halves the error: KVScope's f16
// rounding of Q, K, V moves values across Q8_0 rounding boundaries.) 0.1 is
// 4.5× the measurement and still 8× below the smallest mistake above.
constexpr double kQ8_0Tolerance = 0.1;

}  // namespace

TEST(ForwardReference, StepwiseDecodeMatchesReference) {
    const LoadedTinyModel m = load_tiny_model();
    const Logits ref = Reference(m).run(kSequence);
    for (int threads : {1, 2}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        const double worst = expect_matches(stepwise_logits(*m, kSequence, threads), ref, kF32Tolerance);
        RecordProperty("worst_relative_error_threads_" + std::to_string(threads), std::to_string(worst));
        std::printf("[ measured ] F32 decode, %d thread(s): worst relative error %.3g\n", threads, worst);
    }
}

TEST(ForwardReference, PrefillMatchesReferenceAtEveryLength) {
    const LoadedTinyModel m = load_tiny_model();
    const Logits ref = Reference(m).run(kSequence);
    for (int threads : {1, 2}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        const double worst = expect_matches(prefix_prefill_logits(*m, kSequence, threads), ref, kF32Tolerance);
        std::printf("[ measured ] F32 prefill, %d thread(s): worst relative error %.3g\n", threads, worst);
    }
}

TEST(ForwardReference, TiedOutputMatchesReference) {
    TinyModelOptions o;
    o.separate_output = false;
    const LoadedTinyModel m = load_tiny_model(o);
    ASSERT_TRUE(m->weights().tied_output);
    const Logits ref = Reference(m).run(kSequence);
    expect_matches(stepwise_logits(*m, kSequence, 2), ref, kF32Tolerance);
}

TEST(ForwardReference, PrefillInBatchesOfThreeEqualsOneBatch) {
    const LoadedTinyModel m = load_tiny_model();
    auto logits_of = [&](size_t n, int32_t batch) {
        auto s = make_session(*m, 2, batch);
        s->prefill(std::vector<TokenId>(kSequence.begin(), kSequence.begin() + static_cast<long>(n)));
        return s->logits();
    };
    // 12 tokens = 4 batches of 3: every batch of several tokens takes the same
    // (tinyBLAS) operation order, so cutting the prompt changes no bit (ggml_order.h).
    EXPECT_EQ(logits_of(12, 3), logits_of(12, 64));
    // 7 tokens = 3 + 3 + 1: the last batch is one token, which takes the decode
    // order (ggml_vec_dot_f16) for its attention, so only summation order
    // differs: measured 3.9e-7 at most on logits of magnitude ~3.
    const std::vector<float> a = logits_of(7, 3), b = logits_of(7, 64);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << "token " << i;
    // At every length, batches of 3 also match the reference.
    expect_matches(prefix_prefill_logits(*m, kSequence, 1, 3), Reference(m).run(kSequence), kF32Tolerance);
}

TEST(ForwardReference, ThreadCountGivesBitIdenticalLogits) {
    for (TensorType type : {TensorType::F32, TensorType::Q8_0}) {
        SCOPED_TRACE(tensor_type_name(type));
        TinyModelOptions o;
        o.matrix_type = type;
        o.n_ff = 64;
        const LoadedTinyModel m = load_tiny_model(o);
        EXPECT_EQ(stepwise_logits(*m, kSequence, 1), stepwise_logits(*m, kSequence, 2));
        EXPECT_EQ(prefix_prefill_logits(*m, kSequence, 1), prefix_prefill_logits(*m, kSequence, 2));
    }
}

TEST(ForwardReference, F16ModelMatchesReference) {
    TinyModelOptions o;
    o.matrix_type = TensorType::F16;
    const LoadedTinyModel m = load_tiny_model(o);
    ASSERT_EQ(m->weights().layers[1].wo.type, TensorType::F16);
    const Logits ref = Reference(m).run(kSequence);
    const double d = expect_matches(stepwise_logits(*m, kSequence, 2), ref, kF16Tolerance);
    const double p = expect_matches(prefix_prefill_logits(*m, kSequence, 2), ref, kF16Tolerance);
    std::printf("[ measured ] F16 decode %.3g, prefill %.3g\n", d, p);
}

TEST(ForwardReference, Q8_0ModelMatchesReferenceLoosely) {
    TinyModelOptions o;
    o.matrix_type = TensorType::Q8_0;
    o.n_ff = 64;  // Q8_0 rows are whole blocks of 32
    const LoadedTinyModel m = load_tiny_model(o);
    ASSERT_EQ(m->weights().layers[0].w_down.type, TensorType::Q8_0);
    const Logits ref = Reference(m).run(kSequence);
    const double d = expect_matches(stepwise_logits(*m, kSequence, 2), ref, kQ8_0Tolerance);
    const double p = expect_matches(prefix_prefill_logits(*m, kSequence, 2), ref, kQ8_0Tolerance);
    std::printf("[ measured ] Q8_0 decode %.3g, prefill %.3g\n", d, p);
}

TEST(ForwardReference, ReferenceTellsLayoutMistakesApart) {
    // The tolerance must be tight enough to catch a wrong RoPE layout, a
    // missing RoPE or a wrong GQA head mapping in the engine: each of these
    // mistakes, made in the reference instead, must exceed it by far.
    const LoadedTinyModel m = load_tiny_model();
    const auto got = stepwise_logits(*m, kSequence, 1);
    for (Variant v : {Variant::NeoxRope, Variant::NoRope, Variant::InterleavedGqa}) {
        const Logits wrong = Reference(m, v).run(kSequence);
        double worst = 0;
        for (size_t p = 0; p < got.size(); ++p) worst = std::max(worst, relative_error(got[p], wrong[p]));
        EXPECT_GT(worst, 10 * kF32Tolerance) << "variant " << static_cast<int>(v);
        std::printf("[ measured ] mistake variant %d: worst relative error %.3g\n", static_cast<int>(v), worst);
    }
}


