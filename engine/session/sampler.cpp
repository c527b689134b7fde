#include "session/sampler.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace kvscope {

void SamplingParams::validate() const {
    if (!(temperature >= 0.0f) || temperature > 100.0f)
        throw InvalidSetting("temperature must be between 0 and 100 (0 = greedy), got " + std::to_string(temperature));
    if (top_k < 0) throw InvalidSetting("top-k must be 0 (off) or positive, got " + std::to_string(top_k));
    if (!(top_p > 0.0f && top_p <= 1.0f))
        throw InvalidSetting("top-p must be in (0, 1], got " + std::to_string(top_p));
}

namespace {
uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int32_t argmax(const float* logits, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; ++i)
        if (logits[i] > logits[best]) best = i;
    return best;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) { params_.validate(); }

void Sampler::reset() { rng_ = Rng(params_.seed); }

int32_t Sampler::sample(const float* logits, int32_t n_vocab) {
    if (params_.temperature == 0.0f) return argmax(logits, n_vocab);
    candidates_.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) candidates_[static_cast<size_t>(i)] = {logits[i] / params_.temperature, i};
    // Highest first; ties by id so the order is deterministic.
    const auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    size_t keep = candidates_.size();
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
        keep = static_cast<size_t>(params_.top_k);
        std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<long>(keep), candidates_.end(), by_logit);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    // Softmax over the kept candidates.
    const float max = candidates_[0].first;
    std::vector<double> probs(keep);
    double sum = 0.0;
    for (size_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(static_cast<double>(candidates_[i].first - max));
    for (auto& p : probs) p /= sum;
    // Nucleus: the smallest prefix whose mass reaches top_p.
    if (params_.top_p < 1.0f) {
        double mass = 0.0;
        size_t cut = keep;
        for (size_t i = 0; i < keep; ++i) {
            mass += probs[i];
            if (mass >= params_.top_p) {
                cut = i + 1;
                break;
            }
        }
        keep = cut;
        sum = 0.0;
        for (size_t i = 0; i < keep; ++i) sum += probs[i];
        for (size_t i = 0; i < keep; ++i) probs[i] /= sum;
    }
    double r = rng_.uniform();
    for (size_t i = 0; i < keep; ++i) {
        r -= probs[i];
        if (r < 0.0) return candidates_[i].second;
    }
    return candidates_[keep - 1].second;
}

}  // namespace kvscope
