// The reference (shadow) run's per-step comparison: the same tokens through a
// full f16 cache, against the session's policy.
#include <algorithm>
#include <cmath>

#include "eval/metrics.h"
#include "session/session.h"

namespace kvscope {

ReferenceMetrics Session::reference_metrics() const {
    ReferenceMetrics m;
    const ModelConfig& c = model_.config();
    m.kl_full_policy = kl_divergence(reference_->logits.data(), logits_.data(), c.n_vocab);
    m.top1_agrees = std::max_element(reference_->logits.begin(), reference_->logits.end()) - reference_->logits.begin() ==
                    std::max_element(logits_.begin(), logits_.end()) - logits_.begin();
    if (reference_captured_.empty() || last_row_.layers.empty()) return m;
    // The latest query token in both runs.
    const QueryAttention& full = reference_captured_.back();
    const QueryAttention& ours = last_row_;
    m.evicted_mass_per_layer.assign(static_cast<size_t>(c.n_layer), 0.0);
    m.cosine_per_layer_head.assign(static_cast<size_t>(c.n_layer) * static_cast<size_t>(c.n_head), 0.0);
    double mass_sum = 0, cos_sum = 0;
    for (int32_t l = 0; l < c.n_layer; ++l) {
        const LayerAttention& f = full.layers[static_cast<size_t>(l)];
        const LayerAttention& o = ours.layers[static_cast<size_t>(l)];
        const size_t nf = f.key_positions.size(), no = o.key_positions.size();
        // index of each full key in ours (-1: evicted by the policy)
        std::vector<long> in_ours(nf, -1);
        for (size_t i = 0, j = 0; i < nf; ++i) {
            while (j < no && o.key_positions[j] < f.key_positions[i]) ++j;
            if (j < no && o.key_positions[j] == f.key_positions[i]) in_ours[i] = static_cast<long>(j);
        }
        double layer_mass = 0;
        for (int32_t h = 0; h < c.n_head; ++h) {
            const float* fp = f.probs.data() + static_cast<size_t>(h) * nf;
            const float* op = o.probs.data() + static_cast<size_t>(h) * no;
            double evicted = 0, dot = 0, ff = 0, oo = 0;
            for (size_t i = 0; i < nf; ++i) {
                ff += double(fp[i]) * fp[i];
                if (in_ours[i] < 0) evicted += fp[i];
                else dot += double(fp[i]) * op[in_ours[i]];
            }
            for (size_t j = 0; j < no; ++j) oo += double(op[j]) * op[j];
            const double cosine = ff > 0 && oo > 0 ? dot / std::sqrt(ff * oo) : 0.0;
            m.cosine_per_layer_head[static_cast<size_t>(l) * static_cast<size_t>(c.n_head) + static_cast<size_t>(h)] = cosine;
            layer_mass += evicted;
            cos_sum += cosine;
        }
        m.evicted_mass_per_layer[static_cast<size_t>(l)] = layer_mass / c.n_head;
        mass_sum += layer_mass;
    }
    const double heads = static_cast<double>(c.n_layer) * c.n_head;
    m.evicted_attention_mass = mass_sum / heads;
    m.attention_cosine = cos_sum / heads;
    return m;
}

}  // namespace kvscope
