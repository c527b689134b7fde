#pragma once
// What a compute backend (CPU here, CUDA in kernels/) does for a session:
// run the decoder on tokens at given positions, reading and writing the KV
// cache, and produce logits. The session owns the cache and decides what it
// holds; a backend only computes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kv/kv_cache.h"
#include "session/step_snapshot.h"

namespace kvscope {

class Model;

struct BackendMemory {
    size_t weights_bytes = 0;   // model weights the backend reads
    size_t scratch_bytes = 0;   // activations and other working buffers
    size_t device_used = 0;     // device memory in use (host RSS for the CPU backend)
    size_t device_total = 0;    // device memory in all (host RAM for the CPU backend)
    bool device_is_host = true; // true: the "device" figures are host memory
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;

    // Runs tokens[i] at positions[i], in order, through every layer. Each
    // token's keys and values go into a slot of `cache` that the caller has
    // already inserted for its position in every layer; each token attends to
    // the positions the cache holds at that moment, up to its own.
    // `logits` receives n_vocab floats for the last token only. With
    // `capture`, it is resized to tokens.size() and receives each token's
    // attention probabilities in every layer and head.
    virtual void forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                         float* logits, std::vector<QueryAttention>* capture = nullptr) = 0;

    virtual BackendMemory memory() const = 0;
};

}  // namespace kvscope
