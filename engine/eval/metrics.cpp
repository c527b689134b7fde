#include "eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace kvscope {
namespace {

void check_size(int32_t n) {
    if (n < 1) throw Error("a distribution needs at least one logit, got " + std::to_string(n));
}

}  // namespace

double log_sum_exp(const float* x, int32_t n) {
    check_size(n);
    const float max = *std::max_element(x, x + n);
    if (std::isinf(max)) return static_cast<double>(max);  // all −inf (or a +inf): nothing to normalise
    double sum = 0.0;
    for (int32_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - static_cast<double>(max));
    return static_cast<double>(max) + std::log(sum);
}

std::vector<double> log_softmax(const float* logits, int32_t n) {
    check_size(n);
    const double lse = log_sum_exp(logits, n);
    std::vector<double> out(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<double>(logits[i]) - lse;
    return out;
}

double log_softmax_at(const float* logits, int32_t n, int32_t index) {
    check_size(n);
    if (index < 0 || index >= n)
        throw Error("index " + std::to_string(index) + " is outside the distribution (0.." + std::to_string(n - 1) + ")");
    return static_cast<double>(logits[index]) - log_sum_exp(logits, n);
}

double kl_divergence(const float* logits_p, const float* logits_q, int32_t n) {
    // Σ p_i (log p_i − log q_i) = (Σ e_i (x_i − y_i)) / S − lse(x) + lse(y), with
    // e_i = exp(x_i − max x) and S = Σ e_i: two exps per entry and no buffers
    // (the reference run computes this every step over the whole vocabulary).
    check_size(n);
    const double lse_q = log_sum_exp(logits_q, n);
    const float max_p = *std::max_element(logits_p, logits_p + n);
    if (std::isinf(max_p)) return std::isinf(lse_q) ? 0.0 : INFINITY;  // no finite logit in p (or a +inf)
    double sum = 0.0, weighted = 0.0;
    for (int32_t i = 0; i < n; ++i) {
        const double e = std::exp(static_cast<double>(logits_p[i]) - static_cast<double>(max_p));
        if (e == 0.0) continue;  // p_i = 0 contributes nothing (and x_i may be −inf)
        sum += e;
        weighted += e * (static_cast<double>(logits_p[i]) - static_cast<double>(logits_q[i]));
    }
    const double lse_p = static_cast<double>(max_p) + std::log(sum);
    return std::max(weighted / sum - lse_p + lse_q, 0.0);
}

double cosine_similarity(const AttentionRow& a, const AttentionRow& b) {
    if (a.positions.size() != a.probs.size() || b.positions.size() != b.probs.size())
        throw Error("an attention row has a different number of positions and probabilities");
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (float x : a.probs) na += static_cast<double>(x) * x;
    for (float x : b.probs) nb += static_cast<double>(x) * x;
    size_t i = 0, j = 0;
    while (i < a.positions.size() && j < b.positions.size()) {
        if (a.positions[i] < b.positions[j]) {
            ++i;
        } else if (b.positions[j] < a.positions[i]) {
            ++j;
        } else {
            dot += static_cast<double>(a.probs[i]) * b.probs[j];
            ++i;
            ++j;
        }
    }
    if (na == 0.0 || nb == 0.0) return 0.0;
    return dot / (std::sqrt(na) * std::sqrt(nb));
}

double evicted_mass(std::span<const int32_t> full_positions, std::span<const float> full_probs,
                    std::span<const int32_t> held_positions) {
    if (full_positions.size() != full_probs.size())
        throw Error("an attention row has a different number of positions and probabilities");
    double mass = 0.0;
    size_t j = 0;
    for (size_t i = 0; i < full_positions.size(); ++i) {
        while (j < held_positions.size() && held_positions[j] < full_positions[i]) ++j;
        const bool held = j < held_positions.size() && held_positions[j] == full_positions[i];
        if (!held) mass += full_probs[i];
    }
    return mass;
}

}  // namespace kvscope
