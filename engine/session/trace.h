#pragma once
// Trace: every snapshot of a session (the prefill and each step) kept within
// a memory budget, enough to redraw every view afterwards (DESIGN.md §2).
//
// Storage (docs/trace.md): tokens, top-k, texts, flags, memory figures,
// timings, reference metrics and the policy string as they are; cache views
// and attention key positions as run lists; attention probabilities as 8-bit
// logarithmic codes (attention_codec.h: relative error <= 3.33 %, values
// below 2^-24 read back as 0). About 9·30·n_keys bytes per SmolLM2 step, so
// 2,048 steps with a full cache take ~0.57 GiB.
//
// Budget rule: once bytes_used() passes the budget, ATTENTION is dropped and
// nothing else (tokens, top-k, metrics, memory and cache maps of every step
// are small and always kept). Attention goes in this order:
//   1. the middle layers (1 .. n_layer-2, from the centre outward) of the
//      oldest entry that still has them (the prefill counts as the oldest);
//   2. once every entry but the newest holds only layers 0 and n_layer-1:
//      those two layers, oldest entry first.
// The newest entry is never dropped, so the trace exceeds the budget by at
// most one step's attention. Rationale: users look at the latest steps and at
// the first and last layer (sinks and the output layer) most; a middle layer
// of an old step is what they need least.
// A dropped layer reads back with its key_positions and EMPTY probs.
#include <cstdint>
#include <cstddef>
#include <optional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kv/kv_policy.h"
#include "session/sampler.h"
#include "session/step_snapshot.h"
#include "session/trace_storage.h"

namespace kvscope {

struct TraceHeader {
    std::string model_name;
    std::string model_path;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim = 0;
    int32_t n_ctx = 0;                       // every position lies in [0, n_ctx)
    std::vector<int32_t> prompt_tokens;      // [n_prompt]
    std::vector<std::string> prompt_texts;   // [n_prompt] text of each prompt token
    std::string policy;                      // PolicyConfig::describe() at the start
    KvValueType kv_type = KvValueType::F16;
    PositionMode positions = PositionMode::Original;
    SamplingParams sampling;
    std::string tool_version = KVSCOPE_VERSION;
    std::string backend = "CPU";             // what computed the run ("CPU", "CUDA 0 (NVIDIA H200)")
    // Notes a front end saves with the trace and reads back as they are (the
    // desktop app keeps the step, layer and heads it showed: "view.entry", ...).
    // Optional in the file: older traces have none.
    std::map<std::string, std::string> app_state;
    // [n_layer] the model's own sliding window on each layer (0 = none;
    // gemma3's local layers). Optional in the file: older traces have none.
    std::vector<int32_t> layer_windows;

    static constexpr int32_t kMaxLayers = 1024;
    static constexpr int32_t kMaxHeads = 1024;
    static constexpr int32_t kMaxHeadDim = 4096;
    static constexpr int32_t kMaxContext = 1 << 24;  // 16 Mi positions, past any trained context we know

    // Throws InvalidSetting (one line) unless n_layer, n_head, n_ctx are in
    // 1..their kMax*, n_head_kv divides n_head, head_dim is in 0..kMaxHeadDim,
    // and the prompt's tokens and texts have the same length, at most n_ctx;
    // layer_windows is empty or has n_layer windows in 0..kMaxContext.
    void validate() const;
};

class Model;
class Session;
// The header of a run of `session` on `model` from `prompt`: the model's
// shape and layer windows, the session's context, policy, sampling and backend.
TraceHeader trace_header_for(const Model& model, const Session& session, const std::vector<int32_t>& prompt);

struct TraceOptions {
    uint64_t budget_bytes = 1ull << 30;  // memory for the whole trace; at least 1 MiB

    void validate() const;  // throws InvalidSetting
};

class Trace {
public:
    Trace(TraceHeader header, TraceOptions options = {});  // validates both

    const TraceHeader& header() const { return header_; }
    // Replaces the header's app_state (the front end's notes, saved with the trace).
    void set_app_state(std::map<std::string, std::string> state) { header_.app_state = std::move(state); }
    const TraceOptions& options() const { return options_; }

    // The prompt's snapshot (cache views after the prompt and its attention rows).
    void set_prefill(const StepSnapshot& snapshot);
    bool has_prefill() const { return prefill_.has_value(); }
    StepSnapshot prefill() const;  // throws Error when there is none

    // Stores a step, then applies the budget rule. Throws Error naming the
    // step, layer and value when a position, slot or size does not fit the header.
    void add(const StepSnapshot& snapshot);
    // add() in two halves, so a writer that shares the trace with readers can
    // encode (the costly half) without holding their lock: prepare() only reads
    // the header, which never changes; add_prepared() stores and applies the budget.
    struct Prepared {
        trace_detail::StoredEntry entry;
    };
    Prepared prepare(const StepSnapshot& snapshot) const;  // throws like add()
    void add_prepared(Prepared prepared);
    size_t size() const { return steps_.size(); }
    StepSnapshot step(size_t i) const;  // decoded; throws Error when i >= size()
    // Entries by index: -1 = the prefill, 0.. = steps. Both throw Error for an
    // entry that does not exist.
    // meta: the snapshot without cache views and attention (cheap: no decoding).
    StepSnapshot meta(int64_t entry) const;
    // One layer of one entry decoded alone: its cache view and each query's
    // attention in that layer (probs empty where dropped for the budget). A view
    // that needs one layer of many steps (the heatmap) reads this instead of step().
    struct LayerSlice {
        LayerCacheView view;
        std::vector<std::pair<int32_t, LayerAttention>> queries;  // (query position, attention) per query fed
    };
    LayerSlice layer_slice(int64_t entry, int32_t layer) const;  // throws InvalidSetting for a bad layer
    // Parts of one entry: its cache views ([n_layer]); the attention of its
    // last `max_queries` queries (every layer; probs empty where dropped); how
    // many queries it fed.
    std::vector<LayerCacheView> views(int64_t entry) const;
    std::vector<QueryAttention> attention(int64_t entry, size_t max_queries = SIZE_MAX) const;
    size_t query_count(int64_t entry) const;

    // Whether step i (or the prefill) still holds layer `layer`'s attention.
    bool attention_kept(size_t i, int32_t layer) const;

    // Holds off the budget rule (calls nest): stores go on and nothing is
    // dropped until the last resume_budget(), which applies the rule. A writer
    // that copies the trace out piece by piece while others store steps
    // (export_trace_shared) pauses it, so the entries it has not copied yet stay
    // as they were; meanwhile the trace may pass its budget by the steps stored.
    void pause_budget() { ++budget_pauses_; }
    void resume_budget();

    uint64_t bytes_used() const { return bytes_; }
    bool budget_reached() const { return reached_; }
    int32_t budget_reached_at() const { return reached_at_; }  // step index when first reached; -1 = the prefill
    std::string budget_message() const;  // one line: "" until the budget is reached

    // For trace_io: the stored form, and rebuilding a trace from it (no budget
    // rule applied: the data is taken as it was exported).
    const trace_detail::StoredEntry* stored_prefill() const { return prefill_ ? &*prefill_ : nullptr; }
    const trace_detail::StoredEntry& stored_step(size_t i) const { return steps_.at(i); }
    void restore(std::optional<trace_detail::StoredEntry> prefill, std::vector<trace_detail::StoredEntry> steps,
                 bool reached, int32_t reached_at);

private:
    trace_detail::StoredEntry encode(const StepSnapshot& snapshot, const char* what) const;
    StepSnapshot decode(const trace_detail::StoredEntry& entry) const;
    const trace_detail::StoredEntry& entry_at(int64_t entry) const;
    void set_native_windows(std::vector<LayerCacheView>& views) const;  // [n_layer] from header_.layer_windows
    size_t n_entries() const { return steps_.size() + (prefill_ ? 1 : 0); }
    trace_detail::StoredEntry& entry(size_t g);  // g: 0 = oldest (prefill if any)
    void enforce_budget();
    bool drop_one(size_t& cursor, bool interior);

    TraceHeader header_;
    TraceOptions options_;
    std::optional<trace_detail::StoredEntry> prefill_;
    std::vector<trace_detail::StoredEntry> steps_;
    std::vector<int32_t> interior_order_;  // middle layers, centre outward: the drop order within an entry
    uint64_t bytes_ = 0;
    bool reached_ = false;
    int32_t reached_at_ = -1;
    size_t interior_cursor_ = 0;  // entries before it hold no middle-layer attention
    size_t edge_cursor_ = 0;      // entries before it hold no attention at all
    int32_t budget_pauses_ = 0;   // > 0: the budget rule waits (pause_budget)
};

// Bytes one stored entry takes (vector capacities plus the fixed parts).
uint64_t stored_bytes(const trace_detail::StoredEntry& entry);

}  // namespace kvscope
