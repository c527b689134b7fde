#pragma once
// Scores of stored keys that key-reading policies rank by (KeyDiff), computed
// from keys a storage has turned back into floats. One implementation for
// every backend's storage, so the CPU and CUDA caches rank alike.
#include <cstddef>
#include <cstdint>

namespace kvscope {

// keys: [n][heads][head_dim] floats. out: [n][heads], the cosine between each
// key and its head's anchor: the mean over the n keys of each key divided by
// its L2 norm (KeyDiff's anchor; a zero key counts as zero). Sums run in
// double in index order. A zero key or anchor gives a cosine of 0.
void cosines_to_mean_key(const float* keys, size_t n, int32_t heads, int32_t head_dim, float* out);

}  // namespace kvscope
