#pragma once
// How a Trace holds one snapshot in memory (and how trace_io writes it):
// everything small as is, integer sequences as run lists (int_runs.h) and
// attention as 8-bit log codes (attention_codec.h).
#include <cstdint>
#include <vector>

#include "session/step_snapshot.h"

namespace kvscope::trace_detail {

struct StoredLayerView {
    int32_t same_as = -1;          // an earlier layer of the same step with an identical view; then the rest is empty
    std::vector<int32_t> held;     // runs of held_positions
    std::vector<int32_t> slot_runs;  // runs of held_slots (not "slots": Qt defines that word as a macro)
    std::vector<int32_t> roles;    // rle of held_roles
    std::vector<int32_t> evicted;  // runs of evicted
    std::vector<int32_t> blocks;   // runs of block_table
    int32_t capacity = 0;
    int32_t next_slot = -1;
};

struct StoredLayerAttention {
    std::vector<int32_t> keys;    // runs of key_positions
    std::vector<uint8_t> codes;   // [n_head][n_keys] attention codes; empty once dropped for the budget
};

struct StoredQuery {
    int32_t position = 0;
    std::vector<StoredLayerAttention> layers;  // [n_layer]
};

struct StoredEntry {
    StepSnapshot meta;                      // everything but `layers` and `attention` (both left empty)
    std::vector<StoredLayerView> views;     // [n_layer] encoded meta.layers
    std::vector<StoredQuery> queries;       // [n_queries] encoded meta.attention
};

}  // namespace kvscope::trace_detail
