// A model's own sliding window (gemma3's local layers) as real eviction: the
// composition rule with policies (kv_policy.h), what the session's cache then
// holds on Gemma 3 270M, its bytes, the views and the saved trace.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "kv/kv_policy.h"
#include "session/session.h"
#include "session/trace.h"
#include "session/trace_io.h"
#include "support/gemma3_model.h"

namespace kvscope {
namespace {

std::vector<int32_t> range(int32_t first, int32_t end) {
    std::vector<int32_t> v(static_cast<size_t>(end - first));
    std::iota(v.begin(), v.end(), first);
    return v;
}

TEST(NativeWindowRule, DropsWhatTheNextQueryCannotSee) {
    // The query at 600 with a 512 window sees 89..600: 0..88 are out.
    EXPECT_EQ(outside_native_window(range(0, 600), 600, 512), range(0, 89));
    EXPECT_TRUE(outside_native_window(range(0, 600), 600, 0).empty());  // a global layer
    EXPECT_TRUE(outside_native_window(range(0, 100), 100, 512).empty());
    EXPECT_EQ(outside_native_window({3, 50, 400}, 560, 512), (std::vector<int32_t>{3}));
}

TEST(NativeWindowRule, ComposesWithPoliciesByIntersection) {
    PolicyConfig sinks;
    sinks.kind = PolicyKind::SinksWindow;
    sinks.sinks = 4;
    sinks.window = 1024;
    const std::vector<int32_t> held = range(0, 700);
    // The policy alone keeps everything (700 < 1024); the local layer drops 0..188.
    EXPECT_TRUE(positions_to_evict(sinks, 0, held, std::vector<double>(held.size()), 700).empty());
    EXPECT_EQ(positions_to_evict(sinks, 0, held, std::vector<double>(held.size()), 700, 512), range(0, 189));
    // A smaller policy window shrinks the local layer further: window(100) rules.
    PolicyConfig small;
    small.kind = PolicyKind::Window;
    small.window = 100;
    EXPECT_EQ(positions_to_evict(small, 0, held, std::vector<double>(held.size()), 700, 512), range(0, 601));
    // Sinks inside the window stay; they go once the window passes them.
    const std::vector<int32_t> early = range(0, 300);
    EXPECT_TRUE(positions_to_evict(sinks, 0, early, std::vector<double>(early.size()), 300, 512).empty());
    // Capacities: the smaller of the two; a full policy's local layer holds the window.
    PolicyConfig full;
    EXPECT_EQ(layer_capacity_with_native(full, 0, 32768, 512), 512);
    EXPECT_EQ(layer_capacity_with_native(full, 5, 32768, 0), 32768);
    EXPECT_EQ(layer_capacity_with_native(small, 0, 32768, 512), 100);
    EXPECT_EQ(layer_capacity_with_native(sinks, 0, 32768, 512), 512);
}

std::vector<TokenId> varied_prompt(size_t n) {
    std::vector<TokenId> prompt(n);
    for (size_t i = 0; i < n; ++i) prompt[i] = static_cast<TokenId>(1000 + (i * 7919) % 5000);
    return prompt;
}

std::vector<int32_t> held_positions(const KvCache& cache, int32_t layer) {
    std::vector<int32_t> out;
    for (int32_t slot : cache.held_slots(layer)) out.push_back(cache.position_of(layer, slot));
    return out;
}

// Under the full policy a local layer holds only its last 512 positions and
// a global layer everything: the bytes follow, the views say so, and the
// next step evicts one position from each local layer.
TEST(Gemma3NativeWindow, FullPolicyHoldsTheWindowOnLocalLayers) {
    REQUIRE_GEMMA3(model);
    const ModelConfig& c = model->config();
    SessionOptions so;
    so.n_ctx = 1024;
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    s.prefill(varied_prompt(700));  // positions 0..699, in batches of 64
    int32_t n_local = 0;
    for (int32_t l = 0; l < c.n_layer; ++l) {
        const bool local = c.layer_window(l) > 0;
        n_local += local;
        EXPECT_EQ(held_positions(s.cache(), l), local ? range(700 - 512, 700) : range(0, 700)) << "layer " << l;
        const LayerCacheView& v = s.prefill_snapshot().layers[static_cast<size_t>(l)];
        EXPECT_EQ(v.native_window, local ? 512 : 0) << "layer " << l;
        EXPECT_EQ(v.capacity, local ? 512 : 1024) << "layer " << l;
    }
    EXPECT_EQ(n_local, 15);
    const size_t per_position = s.cache().bytes_per_slot();
    EXPECT_EQ(s.prefill_snapshot().memory.kv_bytes, (15 * 512 + 3 * 700) * per_position);
    EXPECT_EQ(s.prefill_snapshot().memory.kv_full_bytes, 18 * 700 * per_position);
    // Storage: a local layer's pages cover at most the window plus one batch, not the text.
    EXPECT_LT(s.cache().bytes_allocated(), (15 * (512 + 64 + 16) + 3 * (700 + 16)) * per_position);

    s.step();                       // chooses from the prompt's logits
    const StepResult r = s.step();  // feeds position 700
    for (int32_t l = 0; l < c.n_layer; ++l) {
        const LayerCacheView& v = r.layers[static_cast<size_t>(l)];
        if (c.layer_window(l) > 0) {
            EXPECT_EQ(v.evicted, std::vector<int32_t>{188}) << "layer " << l;
            EXPECT_EQ(v.held_positions, range(189, 701)) << "layer " << l;
            // The ring buffer: the next position takes the slot of the one leaving next.
            EXPECT_EQ(v.next_slot, s.cache().slot_of(l, 189)) << "layer " << l;
        } else {
            EXPECT_TRUE(v.evicted.empty()) << "layer " << l;
            EXPECT_EQ(v.held_positions.size(), 701u) << "layer " << l;
        }
    }
}

// A policy shrinks a local layer (window 100 < 512) but never widens it:
// sinks(4)+window(1024) keeps 0..3 on global layers only, once the local
// layers' window has passed them.
TEST(Gemma3NativeWindow, PoliciesShrinkLocalLayersNeverWidenThem) {
    REQUIRE_GEMMA3(model);
    const ModelConfig& c = model->config();
    SessionOptions so;
    so.n_ctx = 1024;
    so.policy.kind = PolicyKind::SinksWindow;
    so.policy.sinks = 4;
    so.policy.window = 1024;
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    s.prefill(varied_prompt(600));
    for (int32_t l : {0, 4, 5, 17}) {
        const bool local = c.layer_window(l) > 0;
        EXPECT_EQ(held_positions(s.cache(), l), local ? range(600 - 512, 600) : range(0, 600)) << "layer " << l;
    }
    EXPECT_NE(native_window_note(so.policy, c).find("holds in full on the 3 global layers only"), std::string::npos)
        << native_window_note(so.policy, c);

    PolicyConfig narrow;
    narrow.kind = PolicyKind::Window;
    narrow.window = 100;
    s.set_policy(narrow);
    s.step();
    const StepResult r = s.step();  // feeds position 600: the window of 100 rules every layer
    for (int32_t l = 0; l < c.n_layer; ++l) {
        EXPECT_EQ(r.layers[static_cast<size_t>(l)].held_positions, range(501, 601)) << "layer " << l;
        EXPECT_EQ(r.layers[static_cast<size_t>(l)].capacity, 100) << "layer " << l;
    }
    EXPECT_EQ(native_window_note(narrow, c).find("global layers only"), std::string::npos);
}

// SmolLM2-like models have no native window: no note, every view says 0.
TEST(NativeWindowNote, EmptyWithoutNativeWindows) {
    ModelConfig c;
    c.n_layer = 2;
    c.layer_is_local = {0, 0};
    EXPECT_EQ(native_window_note(PolicyConfig{}, c), "");
}

// The trace keeps each layer's window once, in its header; every view read
// back carries it, also through export and import.
TEST(Gemma3NativeWindow, TraceKeepsTheLayerWindows) {
    REQUIRE_GEMMA3(model);
    SessionOptions so;
    so.n_ctx = 700;
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    const std::vector<TokenId> prompt = varied_prompt(530);
    s.prefill(prompt);
    Trace t(trace_header_for(*model, s, prompt));
    t.set_prefill(s.prefill_snapshot());
    t.add(s.step());
    ASSERT_EQ(t.header().layer_windows.size(), 18u);
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "kvscope-native-window-trace";
    std::filesystem::create_directories(dir);
    export_trace(t, (dir / "run").string());
    const Trace back = import_trace((dir / "run").string());
    for (const Trace* tr : {static_cast<const Trace*>(&t), &back}) {
        EXPECT_EQ(tr->header().layer_windows, t.header().layer_windows);
        const std::vector<LayerCacheView> views = tr->views(0);
        for (int32_t l = 0; l < 18; ++l) {
            EXPECT_EQ(views[static_cast<size_t>(l)].native_window, model->config().layer_window(l)) << "layer " << l;
            EXPECT_EQ(tr->layer_slice(0, l).view.native_window, model->config().layer_window(l)) << "layer " << l;
        }
    }
    std::filesystem::remove_all(dir);

    TraceHeader bad = t.header();
    bad.layer_windows.pop_back();
    EXPECT_THROW(bad.validate(), InvalidSetting);
}

}  // namespace
}  // namespace kvscope
