#pragma once
// Cache policies: which positions each layer keeps after each token
// (DESIGN.md §2). A policy is plain data (PolicyConfig) that the session
// validates and applies between steps; KvPolicy turns it into per-layer
// eviction decisions and the role of every held position.
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kv/kv_types.h"

namespace kvscope {

enum class PolicyKind {
    Full,         // keep every position
    Window,       // the last W positions (rolling buffer: slot = p mod W)
    SinksWindow,  // the first S positions + the last W − S (StreamingLLM); W counts the sinks
    Global,       // the first S + pinned positions (kept until unpinned) + the last W positions
    H2O,          // the H positions with the most accumulated attention + the R most recent
    Tova,         // at most B positions: over budget, the least attended by the latest query go (TOVA)
    Knorm,        // at most B positions: over budget, the keys with the largest L2 norm go
    KeyDiff,      // at most B positions: over budget, the keys most like the layer's mean key go
};
// Names, rules, papers and parameters of each kind: policy_registry.h.

const char* policy_kind_name(PolicyKind k);  // "full", "window", "sinks", "global", "h2o", "tova", "knorm", "keydiff"
// Throws InvalidSetting listing the accepted names.
PolicyKind parse_policy_kind(const std::string& s);

// Window size by sequence length: the first step whose `below` exceeds the
// length applies; window 0 = full. E.g. {{1024, 0}, {8192, 2048}, {INT32_MAX, 4096}}.
struct DynamicWindowStep {
    int32_t below = 0;
    int32_t window = 0;
    bool operator==(const DynamicWindowStep&) const = default;
};

struct PolicyConfig {
    PolicyKind kind = PolicyKind::Full;
    int32_t window = 0;               // W (Window, SinksWindow, Global)
    int32_t sinks = 0;                // S (SinksWindow: inside W; Global: on top of W)
    std::set<int32_t> pins;           // pinned positions (Global)
    int32_t pin_every = 0;            // Global: also pin every k-th position (0 = off)
    bool pin_separators = false;      // Global: also pin every separator token (SepLLM; the session finds them)
    int32_t h2o_heavy = 0;            // H (H2O)
    int32_t h2o_recent = 0;           // R (H2O)
    int32_t budget = 0;               // B (Tova, Knorm, KeyDiff): the most positions a layer holds, the new one included
    // 1..100: the budget follows the text instead, ⌈percent × positions seen / 100⌉
    // (at least 1), for Tova, Knorm, KeyDiff (B) and H2O (H + R, halved); 0 = off.
    int32_t budget_percent = 0;
    int32_t full_every = 0;           // per-layer pattern: every k-th layer (1-based) keeps everything (0 = off)
    std::vector<DynamicWindowStep> dynamic;  // non-empty: the window follows the length (Window/SinksWindow/Global)
    KvValueType kv_type = KvValueType::F16;
    PositionMode positions = PositionMode::Original;

    // Throws InvalidSetting naming the setting and its allowed range when the
    // config is impossible for a context of n_ctx positions, n_layer layers
    // and a text of `text_length` positions so far (pins must lie inside it).
    void validate(int32_t n_ctx, int32_t n_layer, int32_t text_length) const;

    // The most positions one layer can hold under this policy (<= n_ctx).
    int32_t layer_capacity(int32_t layer, int32_t n_ctx) const;
    // Whether `layer` keeps every position (full policy, or a full layer of the pattern).
    bool layer_is_full(int32_t layer) const;
    // The window in force at a sequence of `length` positions (dynamic steps applied); 0 = full.
    int32_t window_at(int32_t length) const;
    // The budget B in force when position `next` is stored (budget_percent applied).
    int32_t budget_at(int32_t next) const;
    // H2O's (heavy H, recent R) in force when `next` is stored: the fixed pair,
    // or the percent budget split H = ⌊B/2⌋, R = B − H.
    std::pair<int32_t, int32_t> h2o_at(int32_t next) const;

    std::string describe() const;  // e.g. "sinks(4)+window(256) f16 in-cache"

    // Field by field (so a new field is compared without anyone remembering to).
    bool operator==(const PolicyConfig&) const = default;
};

// The decision for one layer before position `next` is stored: which held
// positions to drop. held: the layer's positions in increasing order.
// attention_score, same order as held, higher = more worth keeping: H2O's
// attention accumulated over every query so far; Tova's attention from the
// latest query (mean over the layer's heads; 0 where no query has been
// captured yet); Knorm's negated key norm and KeyDiff's negated cosine to the
// mean key (means over the layer's KV heads).
std::vector<int32_t> positions_to_evict(const PolicyConfig& config, int32_t layer, const std::vector<int32_t>& held,
                                        const std::vector<double>& attention_score, int32_t next);

// The kinds sized by a budget B and ranked by a score (Tova, Knorm, KeyDiff).
bool is_budget_by_score(PolicyKind kind);

// A model's own sliding window (gemma3's local layers, ModelConfig::layer_window)
// composes with any policy by intersection: a local layer keeps a position
// only while the policy keeps it AND a query can still see it. The policy can
// thus shrink what a local layer holds (a smaller window) but never widen it:
// sinks, pins and heavy hitters stay only while inside the native window.
// Returns the held positions (increasing) that the query at `next` and every
// later one can no longer see: p <= next - native_window. Empty when
// native_window is 0 (a global layer).
std::vector<int32_t> outside_native_window(const std::vector<int32_t>& held, int32_t next, int32_t native_window);

// positions_to_evict with the layer's native window applied (sorted, no duplicates).
std::vector<int32_t> positions_to_evict(const PolicyConfig& config, int32_t layer, const std::vector<int32_t>& held,
                                        const std::vector<double>& attention_score, int32_t next, int32_t native_window);

// The most positions a layer holds between steps under the policy and its
// native window (0 = none): the smaller of the two.
int32_t layer_capacity_with_native(const PolicyConfig& config, int32_t layer, int32_t n_ctx, int32_t native_window);

// The role of each held position (same order as held) under the config.
std::vector<SlotRole> position_roles(const PolicyConfig& config, int32_t layer, const std::vector<int32_t>& held,
                                     const std::vector<double>& attention_score);

}  // namespace kvscope
