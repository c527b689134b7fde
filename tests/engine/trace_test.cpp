// Trace: the attention codec, run lists, storage and budget, export/import.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <unistd.h>
#include <algorithm>

#include "session/attention_codec.h"
#include "session/int_runs.h"
#include "session/trace.h"
#include "session/trace_io.h"

#include "util/error.h"

namespace kvscope {
namespace {

namespace codec = attention_codec;

float float_from_bits(uint32_t b) { float f; std::memcpy(&f, &b, 4); return f; }

// ---------------------------------------------------------------- codec

TEST(TraceCodec, ZeroAndOneAreExact) {
    EXPECT_EQ(codec::encode(0.0f), 0);
    EXPECT_EQ(codec::decode(0), 0.0f);
    EXPECT_EQ(codec::encode(1.0f), 255);
    EXPECT_EQ(codec::decode(255), 1.0f);
    EXPECT_EQ(codec::encode(1.5f), 255);
    EXPECT_EQ(codec::encode(-0.25f), 0);
    EXPECT_EQ(codec::encode(std::nanf("")), 0);
    EXPECT_EQ(codec::encode(std::ldexp(1.0f, -24)), 1);
    EXPECT_EQ(codec::encode(std::nextafter(std::ldexp(1.0f, -24), 0.0f)), 0);
}

TEST(TraceCodec, EveryCodeDecodesToItself) {
    for (int c = 0; c < 256; ++c) EXPECT_EQ(codec::encode(codec::decode(static_cast<uint8_t>(c))), c) << c;
    for (int c = 1; c < 256; ++c) EXPECT_LT(codec::decode(static_cast<uint8_t>(c - 1)), codec::decode(static_cast<uint8_t>(c)));
}

// Every float from 2^-24 to 1 (201 M bit patterns): monotone codes, relative
// error within the bound; below 2^-24, a sample of floats and the largest one encode to 0.
TEST(TraceCodec, ExhaustiveMonotoneAndErrorBound) {
    const uint32_t one = 0x3f800000u;
    const uint32_t min_coded = 0x33800000u;  // 2^-24
    uint8_t previous = 0;
    double worst = 0;
    for (uint32_t b = 0; b < min_coded; b += 4099) ASSERT_EQ(codec::encode(float_from_bits(b)), 0) << b;
    ASSERT_EQ(codec::encode(float_from_bits(min_coded - 1)), 0);
    for (uint32_t b = min_coded; b <= one; ++b) {
        const float p = float_from_bits(b);
        const uint8_t c = codec::encode(p);
        ASSERT_GE(c, previous) << "not monotone at " << p;
        previous = c;
        const double rel = std::abs(static_cast<double>(codec::decode(c)) / p - 1.0);
        if (rel > worst) worst = rel;
    }
    EXPECT_LE(worst, codec::kMaxRelativeError);
    EXPECT_GT(worst, 0.0332);  // the bound is tight
}

// Monotone codes are the nearest in log2 everywhere when they are at every
// boundary: the first float of each code and the float before it.
TEST(TraceCodec, NearestCodeInLogDomain) {
    for (int c = 2; c < 256; ++c) {
        const float first = codec::kThresholds[c];
        const float before = std::nextafter(first, 0.0f);
        auto ideal = [](float p) { return 1.0 + (std::log2(static_cast<double>(p)) + 24.0) * 254.0 / 24.0; };
        EXPECT_EQ(codec::encode(first), c);
        EXPECT_EQ(codec::encode(before), c - 1);
        EXPECT_GE(ideal(first), c - 0.5 - 1e-12) << c;
        EXPECT_LT(ideal(before), c - 0.5 + 1e-12) << c;
    }
}

// ---------------------------------------------------------------- run lists

TEST(TraceRuns, RoundTripAndCompactness) {
    std::vector<int32_t> v;  // [0..999] minus a hole, then a wrap-around like a ring buffer
    for (int32_t i = 0; i < 1000; ++i)
        if (i != 500) v.push_back(i);
    EXPECT_EQ(int_runs::encode(v).size(), 4u);
    EXPECT_EQ(int_runs::decode(int_runs::encode(v)), v);
    EXPECT_EQ(int_runs::length(int_runs::encode(v)), 999);
    std::vector<int32_t> ring = {7, 8, 9, 0, 1, 2, 5};
    EXPECT_EQ(int_runs::decode(int_runs::encode(ring)), ring);
    EXPECT_TRUE(int_runs::encode({}).empty());
    EXPECT_EQ(int_runs::check(int_runs::encode(v).data(), 4, 1000, true), "");
    EXPECT_NE(int_runs::check(int_runs::encode(v).data(), 4, 999, true), "");
    EXPECT_NE(int_runs::check(int_runs::encode(ring).data(), int_runs::encode(ring).size(), 100, true), "");
    const std::vector<int32_t> bad = {0, -3};
    EXPECT_NE(int_runs::check(bad.data(), bad.size(), 100, false), "");
    std::vector<int32_t> roles = {0, 0, 1, 1, 1, 0};
    EXPECT_EQ(int_runs::rle_decode(int_runs::rle_encode(roles)), roles);
}

// ---------------------------------------------------------------- trace

namespace fs = std::filesystem;

TraceHeader small_header(int32_t n_layer, int32_t n_head, int32_t n_ctx) {
    TraceHeader h;
    h.model_name = "tiny";
    h.model_path = "/models/tiny.gguf";
    h.n_layer = n_layer;
    h.n_head = n_head;
    h.n_head_kv = 1;
    h.head_dim = 8;
    h.n_ctx = n_ctx;
    // Six prompt tokens: small_trace's prefill feeds positions 0..5.
    h.prompt_tokens = {1, 2, 3, 4, 5, 6};
    h.prompt_texts = {"<s>", "Hello", std::string("\xe2\x82", 2), " a", " b", " c"};  // one a partial UTF-8 sequence
    h.policy = "sinks(4)+window(256) f16 in-cache";
    h.kv_type = KvValueType::Q8_0;
    h.positions = PositionMode::InCache;
    h.sampling.temperature = 0.7f;
    h.sampling.top_k = 40;
    h.sampling.top_p = 0.95f;
    h.sampling.seed = 1234567890123ull;
    return h;
}

// A step whose every layer attends to keys [first_key, position] (a window),
// with random probabilities, some of them tiny or zero.
StepSnapshot make_step(int32_t step, int32_t position, int32_t first_key, const TraceHeader& h, std::mt19937& rng,
                       int32_t n_queries = 1) {
    StepSnapshot s;
    s.step = step;
    s.position = position;
    s.token = 100 + step;
    s.text = step % 3 == 0 ? std::string("\xf0\x9f", 2) : " tok" + std::to_string(step);
    s.top = {{s.token, 12.5f, 0.6f}, {7, 11.25f, 0.3f}, {8, -3.0f, 1e-9f}};
    s.end_of_generation = step == 5;
    s.chosen_logprob = step == 4 ? -INFINITY : -0.51f;
    s.gqa_groups.resize(static_cast<size_t>(h.n_head_kv));
    for (int32_t g = 0; g < h.n_head; ++g) s.gqa_groups[0].push_back(g);
    s.memory = {1000u + static_cast<uint64_t>(step), 2000, 3000, 4000, 5000, 6000, 7000, step % 2 == 0};
    s.timings = {0.1, 2.5, 0.01 * step, 0.2, 1.0 / 3.0};
    if (step % 2 == 1) {
        ReferenceMetrics r;
        r.kl_full_policy = step == 3 ? std::nan("") : 0.125 * step;
        r.top1_agrees = step % 4 != 1;
        r.evicted_attention_mass = 0.01 * step;
        r.attention_cosine = 0.99;
        r.evicted_mass_per_layer.assign(static_cast<size_t>(h.n_layer), 0.02);
        r.cosine_per_layer_head.assign(static_cast<size_t>(h.n_layer * h.n_head), 0.97);
        s.reference = r;
    }
    s.policy = "window(" + std::to_string(position - first_key + 1) + ")";
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (int32_t l = 0; l < h.n_layer; ++l) {
        LayerCacheView v;
        for (int32_t p = first_key; p <= position; ++p) {
            v.held_positions.push_back(p);
            v.held_slots.push_back(p % 512);
            v.held_roles.push_back(p < 4 ? SlotRole::Sink : SlotRole::Window);
        }
        if (l == 1 && v.held_positions.size() > 2) {  // one layer differs: a hole, a heavy hitter
            v.held_positions.erase(v.held_positions.begin() + 1);
            v.held_slots.erase(v.held_slots.begin() + 1);
            v.held_roles.erase(v.held_roles.begin() + 1);
            v.held_roles[0] = SlotRole::HeavyHitter;
        }
        if (first_key > 0) v.evicted = {first_key - 1};
        for (size_t b = 0; b < (v.held_positions.size() + 15) / 16; ++b) v.block_table.push_back(static_cast<int32_t>(b));
        v.capacity = 512;
        v.next_slot = (position + 1) % 512;
        s.layers.push_back(std::move(v));
    }
    for (int32_t q = 0; q < n_queries; ++q) {
        QueryAttention qa;
        qa.position = position - (n_queries - 1) + q;
        for (int32_t l = 0; l < h.n_layer; ++l) {
            LayerAttention la;
            for (int32_t p = first_key; p <= qa.position; ++p) la.key_positions.push_back(p);
            for (size_t i = 0; i < la.key_positions.size() * static_cast<size_t>(h.n_head); ++i) {
                const float x = u(rng);
                la.probs.push_back(x < 0.05f ? 0.0f : x < 0.1f ? 1e-9f : x / static_cast<float>(la.key_positions.size()));
            }
            qa.layers.push_back(std::move(la));
        }
        s.attention.push_back(std::move(qa));
    }
    return s;
}

bool same_double(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void expect_same_snapshot(const StepSnapshot& a, const StepSnapshot& b) {
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.position, b.position);
    EXPECT_EQ(a.token, b.token);
    EXPECT_EQ(a.text, b.text);
    ASSERT_EQ(a.top.size(), b.top.size());
    for (size_t i = 0; i < a.top.size(); ++i) {
        EXPECT_EQ(a.top[i].id, b.top[i].id);
        EXPECT_EQ(a.top[i].logit, b.top[i].logit);
        EXPECT_EQ(a.top[i].probability, b.top[i].probability);
    }
    EXPECT_EQ(a.end_of_generation, b.end_of_generation);
    EXPECT_TRUE(same_double(a.chosen_logprob, b.chosen_logprob));
    EXPECT_EQ(a.gqa_groups, b.gqa_groups);
    EXPECT_EQ(a.memory.kv_bytes, b.memory.kv_bytes);
    EXPECT_EQ(a.memory.kv_full_bytes, b.memory.kv_full_bytes);
    EXPECT_EQ(a.memory.weights_bytes, b.memory.weights_bytes);
    EXPECT_EQ(a.memory.scratch_bytes, b.memory.scratch_bytes);
    EXPECT_EQ(a.memory.process_rss, b.memory.process_rss);
    EXPECT_EQ(a.memory.device_used, b.memory.device_used);
    EXPECT_EQ(a.memory.device_total, b.memory.device_total);
    EXPECT_EQ(a.memory.device_is_host, b.memory.device_is_host);
    EXPECT_EQ(a.timings.policy_ms, b.timings.policy_ms);
    EXPECT_EQ(a.timings.forward_ms, b.timings.forward_ms);
    EXPECT_EQ(a.timings.capture_ms, b.timings.capture_ms);
    EXPECT_EQ(a.timings.sample_ms, b.timings.sample_ms);
    EXPECT_EQ(a.timings.reference_ms, b.timings.reference_ms);
    ASSERT_EQ(a.reference.has_value(), b.reference.has_value());
    if (a.reference) {
        EXPECT_TRUE(same_double(a.reference->kl_full_policy, b.reference->kl_full_policy));
        EXPECT_EQ(a.reference->top1_agrees, b.reference->top1_agrees);
        EXPECT_EQ(a.reference->evicted_attention_mass, b.reference->evicted_attention_mass);
        EXPECT_EQ(a.reference->attention_cosine, b.reference->attention_cosine);
        EXPECT_EQ(a.reference->evicted_mass_per_layer, b.reference->evicted_mass_per_layer);
        EXPECT_EQ(a.reference->cosine_per_layer_head, b.reference->cosine_per_layer_head);
    }
    EXPECT_EQ(a.policy, b.policy);
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t l = 0; l < a.layers.size(); ++l) {
        EXPECT_EQ(a.layers[l].held_positions, b.layers[l].held_positions);
        EXPECT_EQ(a.layers[l].held_slots, b.layers[l].held_slots);
        EXPECT_EQ(a.layers[l].held_roles, b.layers[l].held_roles);
        EXPECT_EQ(a.layers[l].evicted, b.layers[l].evicted);
        EXPECT_EQ(a.layers[l].block_table, b.layers[l].block_table);
        EXPECT_EQ(a.layers[l].capacity, b.layers[l].capacity);
        EXPECT_EQ(a.layers[l].next_slot, b.layers[l].next_slot);
    }
    ASSERT_EQ(a.attention.size(), b.attention.size());
    for (size_t q = 0; q < a.attention.size(); ++q) {
        EXPECT_EQ(a.attention[q].position, b.attention[q].position);
        ASSERT_EQ(a.attention[q].layers.size(), b.attention[q].layers.size());
        for (size_t l = 0; l < a.attention[q].layers.size(); ++l) {
            EXPECT_EQ(a.attention[q].layers[l].key_positions, b.attention[q].layers[l].key_positions);
            EXPECT_EQ(a.attention[q].layers[l].probs, b.attention[q].layers[l].probs);  // decoded codes: bit-equal
        }
    }
}

// A file's bytes, and a file made of bytes (for tests that damage saved sessions).
std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}
void spit(const fs::path& p, const std::string& s) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << s;
}

fs::path temp_dir(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("kvscope_trace_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

Trace small_trace(TraceOptions options, int32_t n_steps, std::vector<StepSnapshot>* originals = nullptr,
                  int32_t window = 41) {
    Trace t(small_header(4, 2, 4096), options);
    std::mt19937 rng(7);
    StepSnapshot pre = make_step(0, 5, 0, t.header(), rng, 6);
    pre.step = -1;
    t.set_prefill(pre);
    if (originals) originals->push_back(pre);
    for (int32_t i = 0; i < n_steps; ++i) {
        StepSnapshot s = make_step(i, 6 + i, std::max(0, 6 + i - window + 1), t.header(), rng);
        t.add(s);
        if (originals) originals->push_back(std::move(s));
    }
    return t;
}

TEST(TraceStore, KeepsEverythingWithinCodecPrecision) {
    std::vector<StepSnapshot> originals;
    Trace t = small_trace({}, 60, &originals);
    EXPECT_FALSE(t.budget_reached());
    EXPECT_EQ(t.budget_message(), "");
    ASSERT_EQ(t.size(), 60u);
    for (size_t i = 0; i <= t.size(); ++i) {
        const StepSnapshot& o = originals[i];
        StepSnapshot d = i == 0 ? t.prefill() : t.step(i - 1);
        // Everything but the probabilities is exact; those are the codec's values.
        StepSnapshot expected = o;
        for (auto& q : expected.attention)
            for (auto& l : q.layers)
                for (float& p : l.probs) p = attention_codec::decode(attention_codec::encode(p));
        expect_same_snapshot(expected, d);
        for (size_t q = 0; q < o.attention.size(); ++q)
            for (size_t l = 0; l < o.attention[q].layers.size(); ++l)
                for (size_t k = 0; k < o.attention[q].layers[l].probs.size(); ++k) {
                    const float p = o.attention[q].layers[l].probs[k];
                    if (p >= 6e-8f) {
                        EXPECT_NEAR(d.attention[q].layers[l].probs[k], p, p * attention_codec::kMaxRelativeError);
                    }
                }
    }
    EXPECT_THROW(t.step(60), Error);
}

// layer_slice and meta give exactly what step()/prefill() give for that layer.
TEST(TraceStore, LayerSliceAndMetaMatchTheFullDecode) {
    Trace t = small_trace({}, 12);
    for (int64_t e = -1; e < static_cast<int64_t>(t.size()); ++e) {
        const StepSnapshot full = e < 0 ? t.prefill() : t.step(static_cast<size_t>(e));
        const StepSnapshot m = t.meta(e);
        EXPECT_EQ(m.token, full.token);
        EXPECT_EQ(m.position, full.position);
        EXPECT_TRUE(m.layers.empty());
        EXPECT_TRUE(m.attention.empty());
        for (int32_t l = 0; l < t.header().n_layer; ++l) {
            const Trace::LayerSlice slice = t.layer_slice(e, l);
            const LayerCacheView& v = full.layers[static_cast<size_t>(l)];
            EXPECT_EQ(slice.view.held_positions, v.held_positions);
            EXPECT_EQ(slice.view.held_slots, v.held_slots);
            EXPECT_EQ(slice.view.held_roles, v.held_roles);
            EXPECT_EQ(slice.view.evicted, v.evicted);
            EXPECT_EQ(slice.view.next_slot, v.next_slot);
            ASSERT_EQ(slice.queries.size(), full.attention.size());
            for (size_t q = 0; q < slice.queries.size(); ++q) {
                EXPECT_EQ(slice.queries[q].first, full.attention[q].position);
                EXPECT_EQ(slice.queries[q].second.key_positions, full.attention[q].layers[static_cast<size_t>(l)].key_positions);
                EXPECT_EQ(slice.queries[q].second.probs, full.attention[q].layers[static_cast<size_t>(l)].probs);
            }
        }
    }
    for (int64_t e = -1; e < static_cast<int64_t>(t.size()); ++e) {
        const StepSnapshot full = e < 0 ? t.prefill() : t.step(static_cast<size_t>(e));
        const std::vector<LayerCacheView> views = t.views(e);
        ASSERT_EQ(views.size(), full.layers.size());
        for (size_t l = 0; l < views.size(); ++l) EXPECT_EQ(views[l].held_positions, full.layers[l].held_positions);
        EXPECT_EQ(t.query_count(e), full.attention.size());
        const std::vector<QueryAttention> last = t.attention(e, 1);
        ASSERT_EQ(last.size(), full.attention.empty() ? 0u : 1u);
        if (!last.empty()) {
            EXPECT_EQ(last[0].position, full.attention.back().position);
            EXPECT_EQ(last[0].layers[2].probs, full.attention.back().layers[2].probs);
        }
        EXPECT_EQ(t.attention(e).size(), full.attention.size());
    }
    // prepare + add_prepared stores what add() stores.
    Trace a = small_trace({}, 0), b = small_trace({}, 0);
    std::mt19937 rng(11);
    const StepSnapshot s = make_step(0, 6, 0, a.header(), rng);
    a.add(s);
    b.add_prepared(b.prepare(s));
    EXPECT_EQ(a.bytes_used(), b.bytes_used());
    EXPECT_EQ(a.step(0).attention[0].layers[1].probs, b.step(0).attention[0].layers[1].probs);
    EXPECT_THROW(t.layer_slice(0, 4), InvalidSetting);
    EXPECT_THROW(t.layer_slice(12, 0), Error);
    EXPECT_THROW(t.meta(-2), Error);
}

TEST(TraceRoundTrip, ExportThenImportGivesIdenticalData) {
    Trace t = small_trace({}, 60);
    const fs::path dir = temp_dir("roundtrip");
    export_trace(t, (dir / "run").string());
    EXPECT_TRUE(fs::exists(dir / "run.json"));
    EXPECT_TRUE(fs::exists(dir / "run.attn.bin"));
    Trace back = import_trace((dir / "run").string());
    ASSERT_EQ(back.size(), t.size());
    EXPECT_EQ(back.options().budget_bytes, t.options().budget_bytes);
    const TraceHeader& a = t.header();
    const TraceHeader& b = back.header();
    EXPECT_EQ(a.model_name, b.model_name);
    EXPECT_EQ(a.model_path, b.model_path);
    EXPECT_EQ(a.n_layer, b.n_layer);
    EXPECT_EQ(a.n_head, b.n_head);
    EXPECT_EQ(a.n_head_kv, b.n_head_kv);
    EXPECT_EQ(a.head_dim, b.head_dim);
    EXPECT_EQ(a.n_ctx, b.n_ctx);
    EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
    EXPECT_EQ(a.prompt_texts, b.prompt_texts);
    EXPECT_EQ(a.policy, b.policy);
    EXPECT_EQ(a.kv_type, b.kv_type);
    EXPECT_EQ(a.positions, b.positions);
    EXPECT_EQ(a.sampling.temperature, b.sampling.temperature);
    EXPECT_EQ(a.sampling.top_k, b.sampling.top_k);
    EXPECT_EQ(a.sampling.top_p, b.sampling.top_p);
    EXPECT_EQ(a.sampling.seed, b.sampling.seed);
    EXPECT_EQ(a.tool_version, b.tool_version);
    expect_same_snapshot(t.prefill(), back.prefill());
    for (size_t i = 0; i < t.size(); ++i) expect_same_snapshot(t.step(i), back.step(i));
    EXPECT_NEAR(static_cast<double>(back.bytes_used()), static_cast<double>(t.bytes_used()), 0.05 * t.bytes_used());
    // Exporting the import again gives byte-identical files.
    export_trace(back, (dir / "again").string());
    EXPECT_EQ(slurp(dir / "run.json"), slurp(dir / "again.json"));
    EXPECT_EQ(slurp(dir / "run.attn.bin"), slurp(dir / "again.attn.bin"));
    fs::remove_all(dir);
}

// export_trace_shared (the desktop app's background save) writes the very
// bytes export_trace writes, reporting its progress up to 1.
TEST(TraceExportShared, WritesWhatExportTraceWrites) {
    Trace t = small_trace({}, 300, nullptr, 200);
    const fs::path dir = temp_dir("shared");
    export_trace(t, (dir / "plain").string());
    std::mutex mutex;
    std::vector<double> seen;
    ASSERT_TRUE(export_trace_shared(t, mutex, (dir / "shared").string(), [&](double f) {
        seen.push_back(f);
        return true;
    }));
    EXPECT_EQ(slurp(dir / "plain.json"), slurp(dir / "shared.json"));
    EXPECT_EQ(slurp(dir / "plain.attn.bin"), slurp(dir / "shared.attn.bin"));
    ASSERT_GE(seen.size(), 2u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_DOUBLE_EQ(seen.back(), 1.0);
    fs::remove_all(dir);
}

// Steps stored while it writes (by another thread, under the mutex, between
// its pieces) are left out, and the budget rule waits: the files hold the
// trace as it was when the export began, even the attention those steps
// would have pushed out. Afterwards the rule applies again.
TEST(TraceExportShared, SavesTheTraceAsItWasWhenItBegan) {
    TraceOptions o;
    o.budget_bytes = 1 << 20;
    Trace t = small_trace(o, 600, nullptr, 1000);  // ~1.4 MiB of attention asked for: past the budget
    ASSERT_TRUE(t.budget_reached());
    const fs::path dir = temp_dir("shared_live");
    export_trace(t, (dir / "before").string());
    std::mutex mutex;
    std::mt19937 rng(11);
    std::vector<StepSnapshot> added;
    ASSERT_TRUE(export_trace_shared(t, mutex, (dir / "during").string(), [&](double) {
        std::lock_guard<std::mutex> lock(mutex);  // as the decoder stores a step
        for (int k = 0; k < 5; ++k) {
            const int32_t s = static_cast<int32_t>(t.size());
            added.push_back(make_step(s, 6 + s, std::max(0, 6 + s - 999), t.header(), rng));
            t.add(added.back());
        }
        return true;
    }));
    EXPECT_EQ(slurp(dir / "before.json"), slurp(dir / "during.json"));
    EXPECT_EQ(slurp(dir / "before.attn.bin"), slurp(dir / "during.attn.bin"));
    ASSERT_FALSE(added.empty());
    // The rule caught up at the end: as small as the same trace under the rule all along.
    Trace control = small_trace(o, 600, nullptr, 1000);
    for (const StepSnapshot& s : added) control.add(s);
    EXPECT_EQ(t.size(), control.size());
    EXPECT_LE(t.bytes_used(), control.bytes_used() + 4u * 2u * 1000u);
    fs::remove_all(dir);
}

// Cancelled, or failing on an unwritable path: nothing left behind, the
// budget rule back in force.
TEST(TraceExportShared, CancelledOrFailedLeavesNothing) {
    TraceOptions o;
    o.budget_bytes = 1 << 20;
    Trace t = small_trace(o, 600, nullptr, 1000);
    ASSERT_TRUE(t.budget_reached());
    const fs::path dir = temp_dir("shared_cancel");
    spit(dir / "run.json", "an older session");
    std::mutex mutex;
    int calls = 0;
    EXPECT_FALSE(export_trace_shared(t, mutex, (dir / "run").string(), [&](double) { return ++calls < 3; }));
    EXPECT_EQ(calls, 3);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
    EXPECT_EQ(left, std::vector<std::string>{"run.json"});
    EXPECT_EQ(slurp(dir / "run.json"), "an older session");
    EXPECT_THROW(export_trace_shared(t, mutex, "/nonexistent-kvscope-dir/run"), Error);
    // The rule is in force again: ~240 KiB more attention is dropped as it
    // is for a trace that was never exported.
    Trace control = small_trace(o, 600, nullptr, 1000);
    std::mt19937 rng(5);
    for (int32_t i = 0; i < 50; ++i) {
        const int32_t s = static_cast<int32_t>(t.size());
        const StepSnapshot step = make_step(s, 6 + s, std::max(0, 6 + s - 999), t.header(), rng);
        t.add(step);
        control.add(step);
    }
    EXPECT_EQ(t.bytes_used(), control.bytes_used());
    fs::remove_all(dir);
}

TEST(TraceBudget, DropsMiddleLayersOfOldStepsFirstAndSaysSo) {
    std::vector<StepSnapshot> originals;
    TraceOptions o;
    o.budget_bytes = 1 << 20;
    Trace t = small_trace(o, 400, &originals, 1000);  // 4 layers x 2 heads x up to 1000 keys per step: ~3 MiB in all
    ASSERT_TRUE(t.budget_reached());
    const std::string msg = t.budget_message();
    EXPECT_NE(msg.find("1 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("middle-layer attention dropped"), std::string::npos) << msg;
    EXPECT_NE(msg.find("all 400 steps kept"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    // Never above the budget by more than the newest step's attention.
    EXPECT_LE(t.bytes_used(), o.budget_bytes + 4u * 2u * 1000u);
    const size_t n = t.size();
    for (int32_t l = 0; l < 4; ++l) EXPECT_TRUE(t.attention_kept(n - 1, l)) << l;
    EXPECT_FALSE(t.attention_kept(0, 1));
    EXPECT_FALSE(t.attention_kept(0, 2));
    bool some_edge_only = false;
    for (size_t i = 0; i < n; ++i) {
        const bool interior = t.attention_kept(i, 1) || t.attention_kept(i, 2);
        const bool edges = t.attention_kept(i, 0) && t.attention_kept(i, 3);
        if (!t.attention_kept(i, 0) || !t.attention_kept(i, 3)) {
            EXPECT_FALSE(interior) << i;  // middle layers go first
        }
        if (edges && !interior) some_edge_only = true;
        if (i + 1 < n)
            for (int32_t l = 0; l < 4; ++l)
                if (t.attention_kept(i, l)) {
                    EXPECT_TRUE(t.attention_kept(i + 1, l)) << i << " " << l;  // oldest first
                }
        // Everything but attention is kept for every step; a dropped layer has keys, no probabilities.
        StepSnapshot s = t.step(i);
        EXPECT_EQ(s.token, originals[i + 1].token);
        EXPECT_EQ(s.text, originals[i + 1].text);
        EXPECT_EQ(s.layers[1].held_positions, originals[i + 1].layers[1].held_positions);
        EXPECT_EQ(s.attention[0].layers[1].key_positions, originals[i + 1].attention[0].layers[1].key_positions);
        EXPECT_EQ(s.attention[0].layers[1].probs.empty(), !t.attention_kept(i, 1));
    }
    EXPECT_TRUE(some_edge_only);
    // The budgeted trace round-trips too, message included.
    const fs::path dir = temp_dir("budget");
    export_trace(t, (dir / "b").string());
    Trace back = import_trace((dir / "b").string());
    EXPECT_TRUE(back.budget_reached());
    EXPECT_EQ(back.budget_message(), msg);
    for (size_t i = 0; i < n; i += 37) expect_same_snapshot(t.step(i), back.step(i));
    fs::remove_all(dir);
}

TEST(TraceBudget, RefusesABudgetBelowOneMiB) {
    TraceOptions o;
    o.budget_bytes = (1 << 20) - 1;
    EXPECT_THROW(Trace(small_header(4, 2, 64), o), InvalidSetting);
    try {
        o.validate();
    } catch (const InvalidSetting& e) {
        EXPECT_NE(std::string(e.what()).find("1 MiB"), std::string::npos) << e.what();
    }
    EXPECT_THROW(Trace(small_header(0, 2, 64)), InvalidSetting);
}

TEST(TraceStore, RefusesPositionsOutsideTheContext) {
    Trace t(small_header(4, 2, 16));
    std::mt19937 rng(1);
    EXPECT_THROW(t.add(make_step(0, 20, 0, t.header(), rng)), Error);
    EXPECT_EQ(t.size(), 0u);
}

// SmolLM2-135M: 30 layers, 9 query heads, a full cache. Bytes per step are
// measured at several lengths; 2,048 steps holding 1..2,048 positions must fit 1 GiB.
TEST(TraceSizing, SmolLM2TwoThousandStepsFitOneGiB) {
    TraceHeader h = small_header(30, 9, 8192);
    h.n_head_kv = 3;
    std::mt19937 rng(3);
    auto bytes_per_step = [&](int32_t n_keys) {
        Trace t(h);
        StepSnapshot s = make_step(0, n_keys - 1, 0, h, rng);
        for (auto& l : s.layers) {  // a full cache: every layer alike
            l = s.layers[0];
            l.evicted.clear();
        }
        t.add(s);  // the first add also sizes the step table
        const uint64_t before = t.bytes_used();
        t.add(s);
        return t.bytes_used() - before;
    };
    const uint64_t b1 = bytes_per_step(1), b1024 = bytes_per_step(1024), b2048 = bytes_per_step(2048);
    const double per_key = (static_cast<double>(b2048) - static_cast<double>(b1)) / 2047.0;
    // Linear in the number of keys: the midpoint sits on the line.
    EXPECT_NEAR(static_cast<double>(b1024), static_cast<double>(b1) + per_key * 1023, 64.0);
    EXPECT_NEAR(per_key, 30.0 * 9.0, 0.5);  // one byte per probability
    double total = 0;  // steps 1..2048 hold 1..2048 positions
    for (int32_t n = 1; n <= 2048; ++n) total += static_cast<double>(b1) + per_key * (n - 1);
    total += 2048.0 * sizeof(trace_detail::StoredEntry);  // the step table
    std::printf("SmolLM2 step bytes: %llu at 1 key, %llu at 1024, %llu at 2048; 2048 steps: %.1f MiB\n",
                static_cast<unsigned long long>(b1), static_cast<unsigned long long>(b1024),
                static_cast<unsigned long long>(b2048), total / (1 << 20));
    EXPECT_LT(total, static_cast<double>(1ull << 30));
}

TEST(TraceExport, UnwritablePathThrowsNamingItAndLeavesNothing) {
    Trace t = small_trace({}, 3);
    const fs::path dir = temp_dir("unwritable");
    const std::string missing = (dir / "no" / "such" / "dir" / "run").string();
    try {
        export_trace(t, missing);
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(missing), std::string::npos) << what;
        EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
    }
    // The target is a directory: the rename fails after the data was written.
    fs::create_directories(dir / "run.json");
    EXPECT_THROW(export_trace(t, (dir / "run").string()), Error);
    for (const auto& e : fs::directory_iterator(dir))
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    EXPECT_THROW(export_attention_csv(t, 0, -1, (dir / "no" / "x.csv").string()), Error);
    fs::remove_all(dir);
}

TEST(TraceImport, RefusesMalformedFilesWithAReason) {
    Trace t = small_trace({}, 10);
    const fs::path dir = temp_dir("malformed");
    const std::string prefix = (dir / "m").string();
    export_trace(t, prefix);
    const std::string json = slurp(prefix + ".json"), bin = slurp(prefix + ".attn.bin");
    auto expect_refused = [&](const std::string& needle) {
        try {
            (void)import_trace(prefix);
            ADD_FAILURE() << "accepted; expected " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    spit(prefix + ".attn.bin", bin.substr(0, bin.size() / 2));
    expect_refused("beyond the end of the file");
    spit(prefix + ".attn.bin", bin.substr(0, bin.size() - 2));
    expect_refused("truncated");
    for (size_t cut : {size_t{0}, size_t{3}, size_t{17}, bin.size() - 1}) {
        spit(prefix + ".attn.bin", bin.substr(0, cut));
        expect_refused("malformed attention file");
    }
    std::string bad = bin;
    bad[0] = 'X';
    spit(prefix + ".attn.bin", bad);
    expect_refused("bad magic");
    bad = bin;
    const uint32_t huge = 0x7fffffff;
    std::memcpy(&bad[28], &huge, 4);  // the prefill's query count
    spit(prefix + ".attn.bin", bad);
    expect_refused("beyond the end of the file");
    bad = bin;
    std::memcpy(&bad[24], &huge, 4);  // n_steps
    spit(prefix + ".attn.bin", bad);
    expect_refused("steps");
    spit(prefix + ".attn.bin", bin + "xx");
    expect_refused("2 trailing bytes");
    // Random byte flips: refused or accepted, never a crash.
    std::mt19937 rng(11);
    for (int i = 0; i < 200; ++i) {
        bad = bin;
        bad[rng() % bad.size()] = static_cast<char>(rng());
        spit(prefix + ".attn.bin", bad);
        try {
            (void)import_trace(prefix);
        } catch (const Error&) {
        }
    }
    spit(prefix + ".attn.bin", bin);
    spit(prefix + ".json", json.substr(0, json.size() / 2));
    expect_refused("malformed trace");
    spit(prefix + ".json", "{\"format\": \"kvscope-trace\", \"version\": 1}");
    expect_refused("header");
    std::string j2 = json;
    const std::string n_ctx = "\"n_ctx\": 4096";
    ASSERT_NE(j2.find(n_ctx), std::string::npos);
    j2.replace(j2.find(n_ctx), n_ctx.size(), "\"n_ctx\": 10");
    spit(prefix + ".json", j2);
    expect_refused("outside");
    fs::remove(prefix + ".json");
    expect_refused("cannot read");
    fs::remove_all(dir);
}

// A saved session from elsewhere may claim anything: counts far past what its
// bytes hold, positions never fed, shapes that disagree. Each is refused in
// one line before anything is sized by it.
TEST(TraceImport, RefusesHostileCountsAndShapesInOneLine) {
    Trace t = small_trace({}, 4);
    const fs::path dir = temp_dir("hostile");
    const std::string prefix = (dir / "h").string();
    export_trace(t, prefix);
    const std::string json = slurp(prefix + ".json"), bin = slurp(prefix + ".attn.bin");
    auto expect_refused = [&](const std::string& needle) {
        try {
            (void)import_trace(prefix);
            ADD_FAILURE() << "accepted; expected " << needle;
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(needle), std::string::npos) << what;
            EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
        }
    };
    auto refused_with = [&](const std::string& from, const std::string& to, const std::string& needle) {
        std::string j = json;
        const size_t at = j.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        j.replace(at, from.size(), to);
        spit(prefix + ".json", j);
        expect_refused(needle);
    };
    refused_with("\"n_layer\": 4", "\"n_layer\": 2000000000", "n_layer must be in 1..1024");
    refused_with("\"n_head\": 2", "\"n_head\": 100000", "n_head must be in 1..1024");
    refused_with("\"n_ctx\": 4096", "\"n_ctx\": 2147483647", "n_ctx must be in 1..16777216");
    refused_with("\"n_head_kv\": 1", "\"n_head_kv\": 3", "n_head_kv must be in 1..2");
    refused_with("\"head_dim\": 8", "\"head_dim\": -8", "head_dim must be in 0..4096");
    refused_with("\"position\": 7", "\"position\": 4000", "does not follow the previous step");
    refused_with("\"step\": 2", "\"step\": 7", "numbered 7");
    refused_with("\"gqa_groups\": [", "\"gqa_groups\": [[5], ", "GQA group");
    // Every step moved far along (consecutive still): past what was ever fed.
    {
        std::string j = json;
        for (int i = 3; i >= 0; --i) {
            const std::string from = "\"position\": " + std::to_string(6 + i);
            const size_t at = j.find(from);
            ASSERT_NE(at, std::string::npos);
            j.replace(at, from.size(), "\"position\": " + std::to_string(4000 + i));
        }
        spit(prefix + ".json", j);
        expect_refused("tokens a 6-token prompt and 4 steps feed");
    }
    spit(prefix + ".json", json);
    // The attention file: a query after its entry.
    std::string bad = bin;
    const int32_t late = 4000;
    std::memcpy(&bad[32], &late, 4);  // the prefill's first query position
    spit(prefix + ".attn.bin", bad);
    expect_refused("after its entry's position 5");
    spit(prefix + ".attn.bin", bin);
    EXPECT_NO_THROW((void)import_trace(prefix)) << "the untouched files import";
    fs::remove_all(dir);
}

TEST(TraceExport, AttentionCsvIsAQueryByKeyMatrix) {
    Trace t = small_trace({}, 3);
    const fs::path dir = temp_dir("csv");
    const fs::path path = dir / "l0.csv";
    export_attention_csv(t, 0, -1, path.string());
    std::ifstream f(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(f, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 1u + 6u + 3u);  // header, 6 prompt queries, 3 steps
    EXPECT_EQ(lines[0].rfind("query\\key,0,1,2,3,4,5,6,7,8", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("0,", 0), 0u) << lines[1];  // query position 0 sees key 0 only
    EXPECT_EQ(std::count(lines[1].begin(), lines[1].end(), ','), 9);
    EXPECT_EQ(lines[1].substr(lines[1].find(',', 2)), std::string(8, ','));  // then empty cells
    const StepSnapshot s = t.step(2);
    float mean = 0;
    for (int32_t h = 0; h < 2; ++h) mean += s.attention[0].layers[0].probs[static_cast<size_t>(h) * 9 + 4];
    char expected[32];
    std::snprintf(expected, sizeof expected, "%.9g", mean / 2);
    std::stringstream row(lines.back());
    std::string cell;
    for (int i = 0; i <= 5; ++i) std::getline(row, cell, ',');
    EXPECT_EQ(cell, expected);
    EXPECT_THROW(export_attention_csv(t, 4, 0, path.string()), InvalidSetting);
    EXPECT_THROW(export_attention_csv(t, 0, 2, path.string()), InvalidSetting);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace kvscope
