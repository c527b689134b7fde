#pragma once
// Picks the next token from logits: greedy (temperature 0) or temperature,
// top-k and top-p (nucleus) sampling with a seeded generator, so that the same
// seed gives the same run on every machine.
#include <cstdint>
#include <string>
#include <vector>

namespace kvscope {

struct SamplingParams {
    float temperature = 0.0f;  // 0 = greedy (argmax)
    int32_t top_k = 0;         // 0 = whole vocabulary
    float top_p = 1.0f;        // 1 = no nucleus cut
    uint64_t seed = 0;

    // Throws InvalidSetting naming the setting and its range.
    void validate() const;
};

// xoshiro256** seeded by splitmix64: small, fast and identical everywhere
// (std::uniform_real_distribution is not specified bit-for-bit across libraries).
class Rng {
public:
    explicit Rng(uint64_t seed);
    uint64_t next();
    double uniform();  // [0, 1)

private:
    uint64_t s_[4];
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);
    const SamplingParams& params() const { return params_; }
    int32_t sample(const float* logits, int32_t n_vocab);
    void reset();  // restarts the random sequence from the seed

private:
    SamplingParams params_;
    Rng rng_;
    std::vector<std::pair<float, int32_t>> candidates_;  // [n_vocab] (logit, id) scratch
};

int32_t argmax(const float* logits, int32_t n);

}  // namespace kvscope
