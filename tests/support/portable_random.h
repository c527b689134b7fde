#pragma once
// A random stream that every compiler and library reproduces: splitmix64 and
// floats made from its top 24 bits (exact, no library distribution). Used
// where a fixture made by another program (tools/llamacpp-reference) must be
// regenerated bit for bit by a test.
#include <cstdint>

namespace kvscope::test {

class PortableRandom {
public:
    explicit PortableRandom(uint64_t seed) : state_(seed) {}

    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [lo, hi): an exact multiple of 2^-24 of the range.
    float uniform(float lo, float hi) {
        return lo + (hi - lo) * (static_cast<float>(next() >> 40) * 0x1p-24f);
    }

private:
    uint64_t state_;
};

// The rows of tools/llamacpp-reference/dump_quant_dots.cpp: n weights, then n
// activations (an outlier at n / 3, as real activations have), from one stream.
inline void quant_dot_case_values(uint64_t seed, int n, float* weights, float* activation) {
    PortableRandom r(seed);
    for (int i = 0; i < n; ++i) weights[i] = r.uniform(-1.0f, 1.0f) * (1 + (i / 32) % 3);
    for (int i = 0; i < n; ++i) activation[i] = r.uniform(-2.0f, 2.0f);
    activation[n / 3] = 7.5f;
}

}  // namespace kvscope::test
