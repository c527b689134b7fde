#pragma once
// Everything a front end needs to draw one decoding step, as plain values
// that can be copied to another thread (no pointers into the engine).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/attention_capture.h"
#include "kv/kv_policy.h"

namespace kvscope {

struct TokenCandidate {
    int32_t id = 0;
    float logit = 0;
    float probability = 0;  // softmax of the raw logits (temperature 1)
};

// vLLM-style paged view (kPageSize, kv/kv_types.h): held positions by rank
// in logical blocks of 16, each sitting in the physical block of its first
// slot (slot / 16).
struct LayerCacheView {
    std::vector<int32_t> held_positions;  // [held] increasing
    std::vector<int32_t> held_slots;      // [held] physical slot of each held position
    std::vector<SlotRole> held_roles;     // [held]
    std::vector<int32_t> evicted;         // positions evicted at this step
    std::vector<int32_t> block_table;     // [ceil(held / 16)] logical block -> physical block
    int32_t capacity = 0;                 // most slots this layer may hold now (policy and native window)
    int32_t native_window = 0;            // the model's own sliding window on this layer (gemma3's local layers); 0 = none
    int32_t next_slot = -1;               // slot the next position will take (ring-buffer write pointer)
};

struct MemoryFigures {
    uint64_t kv_bytes = 0;         // K and V held now, all layers
    uint64_t kv_full_bytes = 0;    // what a full cache would hold for the same text
    uint64_t weights_bytes = 0;
    uint64_t scratch_bytes = 0;
    uint64_t process_rss = 0;      // resident set of the process
    uint64_t device_used = 0;      // device memory used (host RSS on the CPU backend)
    uint64_t device_total = 0;
    bool device_is_host = true;
};

struct StepTimings {
    double policy_ms = 0;   // eviction decisions and cache bookkeeping
    double forward_ms = 0;  // the model on the fed token(s)
    double capture_ms = 0;  // copying attention into the snapshot
    double sample_ms = 0;
    double reference_ms = 0;
};

// Per-step comparison with a full cache fed the same tokens.
struct ReferenceMetrics {
    double kl_full_policy = 0;       // KL(p_full || p_policy) of the next-token distributions
    bool top1_agrees = true;
    double evicted_attention_mass = 0;  // mean over layers and heads of the full run's attention on evicted positions
    double attention_cosine = 1;        // mean cosine similarity of full vs policy attention rows
    std::vector<double> evicted_mass_per_layer;   // [n_layer] mean over heads
    std::vector<double> cosine_per_layer_head;    // [n_layer * n_head]
};

struct StepSnapshot {
    int32_t step = 0;          // 0-based among generated tokens
    int32_t position = 0;      // text position of the new token
    int32_t token = 0;
    std::string text;
    std::vector<TokenCandidate> top;
    bool end_of_generation = false;
    float chosen_logprob = 0;  // log-softmax of `token` under the model's distribution (for perplexity)

    std::vector<LayerCacheView> layers;            // [n_layer], after this step's evictions
    std::vector<QueryAttention> attention;         // query tokens fed at this step (empty when capture is off)
    std::vector<std::vector<int32_t>> gqa_groups;  // [n_head_kv] -> query heads sharing that KV head
    MemoryFigures memory;
    StepTimings timings;
    std::optional<ReferenceMetrics> reference;
    std::string policy;                            // PolicyConfig::describe() in force
};

}  // namespace kvscope
