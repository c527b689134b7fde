#pragma once
// Traces shaped like a run of SmolLM2 (9 query heads in 3 KV groups) under
// sinks(S)+window(W), made without the model, as many rows as a test needs:
// the prefill feeds the prompt (one attention row per prompt token), step 0
// feeds nothing (it samples the first token), each later step feeds one query.
// Every row attends to the sinks and its window; each head puts a share of its
// mass on the sinks and the rest decays with distance at its own rate (what
// real heads look like from far away), with a little deterministic noise.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/shared_trace.h"
#include "session/trace.h"

namespace kvscope::test {

struct SyntheticRun {
    int32_t n_layer = 30;
    int32_t n_head = 9;
    int32_t n_head_kv = 3;
    int32_t prompt = 40;   // prompt tokens (rows of the prefill)
    int32_t sinks = 4;
    int32_t window = 64;
    uint64_t budget_bytes = 1ull << 30;  // the trace's memory budget

    int32_t n_ctx() const { return 1 << 16; }
    // Query rows after `steps` steps: the prompt's, then one per step after the first.
    int32_t rows_after(int32_t steps) const { return prompt + std::max(0, steps - 1); }
};

inline TraceHeader synthetic_header(const SyntheticRun& r) {
    TraceHeader h;
    h.model_name = "synthetic (SmolLM2 shape)";
    h.model_path = "/nonexistent/synthetic.gguf";
    h.n_layer = r.n_layer;
    h.n_head = r.n_head;
    h.n_head_kv = r.n_head_kv;
    h.head_dim = 64;
    h.n_ctx = r.n_ctx();
    for (int32_t p = 0; p < r.prompt; ++p) {
        h.prompt_tokens.push_back(1000 + p);
        h.prompt_texts.push_back(" p" + std::to_string(p));
    }
    h.policy = "sinks(" + std::to_string(r.sinks) + ")+window(" + std::to_string(r.window) + ")";
    return h;
}

namespace synthetic_detail {

// Positions held after feeding position q: the sinks, then the window ending at q.
inline std::vector<int32_t> held_after(const SyntheticRun& r, int32_t q) {
    std::vector<int32_t> held;
    for (int32_t p = 0; p < std::min(r.sinks, q + 1); ++p) held.push_back(p);
    for (int32_t p = std::max(r.sinks, q - r.window + 1); p <= q; ++p) held.push_back(p);
    return held;
}

inline LayerCacheView view_after(const SyntheticRun& r, int32_t q, bool evicted_now) {
    LayerCacheView v;
    v.held_positions = held_after(r, q);
    for (int32_t p : v.held_positions) {
        v.held_slots.push_back(p < r.sinks ? p : r.sinks + (p - r.sinks) % r.window);
        v.held_roles.push_back(p < r.sinks ? SlotRole::Sink : SlotRole::Window);
    }
    if (evicted_now && q - r.window >= r.sinks) v.evicted = {q - r.window};
    for (size_t b = 0; b < (v.held_positions.size() + 15) / 16; ++b) v.block_table.push_back(static_cast<int32_t>(b));
    v.capacity = r.sinks + r.window;
    v.next_slot = r.sinks + (q + 1 - r.sinks) % r.window;
    return v;
}

// Small deterministic noise in [0, 1).
inline float noise(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t x = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u) * 0x85ebca6bu ^ (c + 0x165667b1u) * 0xc2b2ae35u;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return static_cast<float>(x >> 8) / 16777216.0f;
}

inline QueryAttention query_row(const SyntheticRun& r, int32_t q) {
    QueryAttention qa;
    qa.position = q;
    const std::vector<int32_t> keys = held_after(r, q);
    const size_t n = keys.size();
    for (int32_t l = 0; l < r.n_layer; ++l) {
        LayerAttention la;
        la.key_positions = keys;
        la.probs.resize(static_cast<size_t>(r.n_head) * n);
        for (int32_t h = 0; h < r.n_head; ++h) {
            float* p = la.probs.data() + static_cast<size_t>(h) * n;
            const float sink_share = 0.2f + 0.07f * static_cast<float>((h + l) % 9);
            const float rate = 0.05f + 0.1f * static_cast<float>((h * 7 + l) % 5);
            float sum = 0;
            for (size_t k = 0; k < n; ++k) {
                const float w = keys[k] < r.sinks ? sink_share * 8.0f : std::exp(-rate * static_cast<float>(q - keys[k]));
                p[k] = w * (0.8f + 0.4f * noise(static_cast<uint32_t>(q), static_cast<uint32_t>(l * 64 + h),
                                                static_cast<uint32_t>(keys[k])));
                sum += p[k];
            }
            for (size_t k = 0; k < n; ++k) p[k] /= sum;
        }
        qa.layers.push_back(std::move(la));
    }
    return qa;
}

inline std::vector<std::vector<int32_t>> gqa_groups(const SyntheticRun& r) {
    std::vector<std::vector<int32_t>> g(static_cast<size_t>(r.n_head_kv));
    const int32_t per = r.n_head / r.n_head_kv;
    for (int32_t h = 0; h < r.n_head; ++h) g[static_cast<size_t>(h / per)].push_back(h);
    return g;
}

}  // namespace synthetic_detail

// The prefill's snapshot (step -1) or step `step`'s (0..).
inline StepSnapshot synthetic_snapshot(const SyntheticRun& r, int32_t step) {
    using namespace synthetic_detail;
    StepSnapshot s;
    s.step = step;
    s.position = step < 0 ? r.prompt - 1 : r.prompt + step;
    s.token = step < 0 ? 1000 + r.prompt - 1 : 2000 + step;
    s.text = step < 0 ? " p" + std::to_string(r.prompt - 1) : " t" + std::to_string(step);
    s.top = {{s.token, 10.0f, 0.5f}, {7, 9.0f, 0.2f}};
    s.chosen_logprob = -0.7f;
    s.gqa_groups = gqa_groups(r);
    s.policy = "sinks(" + std::to_string(r.sinks) + ")+window(" + std::to_string(r.window) + ")";
    const int32_t last_fed = step <= 0 ? r.prompt - 1 : r.prompt + step - 1;
    for (int32_t l = 0; l < r.n_layer; ++l) s.layers.push_back(view_after(r, last_fed, step > 0));
    if (step < 0) {
        for (int32_t q = 0; q < r.prompt; ++q) s.attention.push_back(query_row(r, q));
    } else if (step > 0) {
        s.attention.push_back(query_row(r, last_fed));
    }
    const uint64_t per_slot = 2ull * static_cast<uint64_t>(r.n_layer) * static_cast<uint64_t>(r.n_head_kv) * 64 * 2;
    s.memory.kv_bytes = per_slot * s.layers[0].held_positions.size();
    s.memory.kv_full_bytes = per_slot * static_cast<uint64_t>(last_fed + 1);
    s.timings.forward_ms = 10;
    return s;
}

// A finished trace: the prefill and `steps` steps.
inline gui::SharedTracePtr synthetic_trace(const SyntheticRun& r, int32_t steps) {
    TraceOptions options;
    options.budget_bytes = r.budget_bytes;
    auto trace = std::make_shared<gui::SharedTrace>(Trace(synthetic_header(r), options));
    trace->trace.set_prefill(synthetic_snapshot(r, -1));
    for (int32_t i = 0; i < steps; ++i) trace->trace.add(synthetic_snapshot(r, i));
    return trace;
}

}  // namespace kvscope::test
