#pragma once
// Attention as a backend captures it: what the softmax gave each query head
// over the keys it saw. Shared by the engine's snapshots and every backend
// (kernels/ includes this without the session).
#include <cstdint>
#include <vector>

namespace kvscope {

// Attention of one query token in one layer: probabilities of every query
// head over the key positions that token saw (held and not in its future).
struct LayerAttention {
    std::vector<int32_t> key_positions;  // [n_keys] increasing
    std::vector<float> probs;            // [n_head][n_keys]
};

// One query token's attention in every layer.
struct QueryAttention {
    int32_t position = 0;                 // the query token's text position
    std::vector<LayerAttention> layers;   // [n_layer]
};

}  // namespace kvscope
