#pragma once
// A decoding session: model + backend + KV cache + sampler + the token
// sequence. prefill(prompt) runs the prompt; each step() then feeds the token
// chosen last (if any), samples the next one and reports it with the top-k
// candidates. Steps are lazy: the token a step returns is only run through
// the model by the following step, so stopping costs no wasted forward pass.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "kv/kv_policy.h"
#include "session/sampler.h"
#include "session/step_snapshot.h"

namespace kvscope {

struct SessionOptions {
    int32_t n_ctx = 0;           // context length; 0 = the model's training context
    int32_t top_k_report = 5;    // candidates reported per step
    int32_t prefill_batch = 64;  // prompt tokens per forward call (full-cache policies; others go one by one)
    SamplingParams sampling;
    PolicyConfig policy;         // cache policy, KV value type and position mode
    bool capture_attention = false;  // StepSnapshot::attention filled (costs a copy per step)
    bool cache_views = true;         // StepSnapshot::layers filled
    bool reference_run = false;      // a full-cache shadow session gives StepSnapshot::reference
    // Local layers (the model's own window, gemma3) keep every position the
    // policy keeps and only mask what falls out of their window, as llama.cpp
    // does with swa_full (its default in llama_context_default_params): the
    // sums then run over the same cells as llama.cpp's, which the bit-for-bit
    // comparison needs. Off (the default), local layers really evict what
    // their window left: the memory a deployment would hold, the same
    // logits up to the order of the sums.
    bool swa_full = false;

    void validate(const ModelConfig& config) const;  // throws InvalidSetting (check_policy_fits included)
};

// Throws InvalidSetting when the policy asks what the model cannot do (e.g.
// in-cache positions on a model whose layers use several RoPE bases).
void check_policy_fits(const PolicyConfig& policy, const ModelConfig& config);


// How the policy meets the model's own sliding windows, for people: "" when
// the model has none; else e.g. "15 local layers keep at most their own
// 512-token window (the model's), whatever the policy keeps; window(1024)
// holds in full on the 3 global layers only". The composition rule:
// kv_policy.h, outside_native_window.
// Under swa_full (SessionOptions) local layers keep what the policy keeps and mask.
std::string native_window_note(const PolicyConfig& policy, const ModelConfig& config, bool swa_full = false);

// What a step returns (see step_snapshot.h).
using StepResult = StepSnapshot;

class Session {
public:
    Session(const Model& model, std::unique_ptr<Backend> backend, const SessionOptions& options);

    // Clears the cache and runs the prompt. Throws InvalidSetting if it is
    // empty or longer than the context.
    void prefill(const std::vector<TokenId>& prompt);
    // Throws kvscope::Error "context full" when the next token would not fit.
    // With `forced`, that token is taken instead of a sampled one (replaying a
    // recorded sequence, or comparing against a reference decoder step by step);
    // the reported top-k still comes from the model's logits.
    StepResult step(std::optional<TokenId> forced = std::nullopt);

    const Model& model() const { return model_; }
    Backend& backend() { return *backend_; }
    const Backend& backend() const { return *backend_; }
    const KvCache& cache() const { return cache_; }
    const SessionOptions& options() const { return options_; }
    int32_t n_ctx() const { return n_ctx_; }
    const std::vector<TokenId>& tokens() const { return tokens_; }  // prompt + generated
    int32_t n_prompt() const { return n_prompt_; }
    int32_t n_generated() const { return static_cast<int32_t>(tokens_.size()) - n_prompt_; }
    // Logits of the position after the last token fed ([n_vocab]).
    const std::vector<float>& logits() const { return logits_; }
    double prefill_ms() const { return prefill_ms_; }

    // The policy in force; set_policy validates (InvalidSetting naming the
    // setting and its range) and applies it from the next step: positions the
    // new policy no longer keeps are evicted before the next token is stored.
    // A larger window does not bring evicted positions back; it fills as new
    // tokens arrive. The KV value type and position mode are fixed per run:
    // changing them takes effect at the next prefill (Replay).
    const PolicyConfig& policy() const { return options_.policy; }
    void set_policy(const PolicyConfig& policy);

    // The snapshot of the prefill (its cache views, and the prompt's attention
    // rows when capture is on); step 0's snapshot follows from step().
    const StepSnapshot& prefill_snapshot() const { return prefill_snapshot_; }

private:
    struct Reference {       // the full-cache shadow run
        KvCache cache;
        std::vector<float> logits;  // [n_vocab]
    };
    // A cache of n_ctx slots per layer whose bytes the backend holds.
    KvCache make_cache(KvValueType type, PositionMode positions);
    void feed(const std::vector<TokenId>& tokens, int32_t first_position);
    // In each local layer of `cache` (the model's own window W), evicts the
    // positions the query at `next` cannot see (p <= next − W), noting them in
    // `evicted` ([n_layer]) when given.
    void evict_outside_native_windows(KvCache& cache, int32_t next, std::vector<std::vector<int32_t>>* evicted) const;
    bool needs_capture() const;
    bool policy_bounds_every_layer() const;
    // The window a layer's cache is cut to: the model's own (0 for a global
    // layer), or 0 everywhere under swa_full.
    int32_t evicting_window(int32_t layer) const;
    std::vector<int32_t> held_positions(int32_t layer) const;
    std::vector<double> scores_of(int32_t layer, const std::vector<int32_t>& positions) const;
    void accumulate_h2o(const std::vector<QueryAttention>& rows);
    // Tova's scores: the latest captured query's attention on each position
    // (mean over the layer's heads), 0 where that query did not see it.
    std::vector<double> latest_attention(int32_t layer, const std::vector<int32_t>& positions) const;
    // Knorm's and KeyDiff's scores from the stored keys (the storage's
    // key_norms / key_cosines_to_mean, averaged over the layer's KV heads), negated.
    std::vector<double> key_scores(int32_t layer, const std::vector<int32_t>& positions) const;
    // The policy with every separator fed so far pinned (pin_separators).
    PolicyConfig policy_with_separators() const;
    void fill_snapshot(StepSnapshot& snap);
    ReferenceMetrics reference_metrics() const;

    const Model& model_;
    std::unique_ptr<Backend> backend_;
    SessionOptions options_;
    int32_t n_ctx_;
    KvCache cache_;
    Sampler sampler_;
    std::vector<TokenId> tokens_;
    int32_t n_prompt_ = 0;
    int32_t n_fed_ = 0;              // tokens run through the model so far
    std::vector<float> logits_;      // [n_vocab]
    double prefill_ms_ = 0;
    StepSnapshot prefill_snapshot_;
    std::vector<std::vector<double>> h2o_scores_;     // [layer][position] accumulated attention (H2O)
    std::set<int32_t> separator_positions_;           // positions fed whose token is a separator (SepLLM's pins)
    std::vector<std::vector<int32_t>> pending_evicted_;  // [layer] positions evicted since the last snapshot
    std::vector<QueryAttention> captured_;            // attention rows fed since the last snapshot
    QueryAttention last_row_;                         // the latest token's attention (reference metrics)
    StepTimings pending_timings_;
    std::unique_ptr<Reference> reference_;
    std::vector<QueryAttention> reference_captured_;  // the reference run's rows of the last forward
};

// Top-k candidates of a logit vector, highest first, with softmax probabilities.
std::vector<TokenCandidate> top_candidates(const float* logits, int32_t n_vocab, int32_t k);
// The same with the softmax's normaliser already known (log_sum_exp, eval/metrics.h).
std::vector<TokenCandidate> top_candidates(const float* logits, int32_t n_vocab, int32_t k, double log_normaliser);

}  // namespace kvscope
