#pragma once
// Quality metrics of the quality lab, as pure functions on plain arrays:
// next-token distributions (log-softmax, KL divergence) and attention rows
// (cosine similarity, attention mass on evicted positions). All sums are in
// double; inputs are not modified.
#include <cstdint>
#include <span>
#include <vector>

namespace kvscope {

// log softmax(logits)[i] = logits[i] − logsumexp(logits), computed around the
// maximum so that large logits do not overflow. n >= 1.
std::vector<double> log_softmax(const float* logits, int32_t n);
// One entry of the above without building the whole vector.
double log_softmax_at(const float* logits, int32_t n, int32_t index);
// log Σ exp(logits[i]): the softmax's normaliser, computed once and shared by
// whatever else a step reports (log p(i) = logits[i] − it).
double log_sum_exp(const float* logits, int32_t n);

// KL(softmax(p) ‖ softmax(q)) = Σ p_i (log p_i − log q_i), >= 0 (rounding
// below zero is clamped). Terms with p_i = 0 contribute nothing.
double kl_divergence(const float* logits_p, const float* logits_q, int32_t n);

// One attention row: probabilities over key positions. Positions increase
// strictly; positions and probs have the same length.
struct AttentionRow {
    std::span<const int32_t> positions;
    std::span<const float> probs;
};

// Cosine similarity of two rows aligned by position: a position missing from
// one row counts as probability 0 there. 0 when either row is all zeros.
// Throws kvscope::Error when a row's two spans differ in length.
double cosine_similarity(const AttentionRow& a, const AttentionRow& b);

// Σ of the full row's probability on positions that are not in `held`
// (both increasing): the attention mass a policy has thrown away.
double evicted_mass(std::span<const int32_t> full_positions, std::span<const float> full_probs,
                    std::span<const int32_t> held_positions);

}  // namespace kvscope
