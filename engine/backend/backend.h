#pragma once
// What a compute backend (CPU in backend/cpu/, CUDA in kernels/) does for a
// session: hold the bytes of the KV cache in its own memory, run the decoder
// on tokens at given positions, reading and writing that cache, and produce
// logits. The session owns the cache's bookkeeping and decides what it holds;
// a backend stores and computes.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/attention_capture.h"
#include "kv/kv_cache.h"
#include "kv/kv_layout.h"
#include "kv/kv_storage.h"

namespace kvscope {

class Model;

struct BackendMemory {
    size_t weights_bytes = 0;   // model weights the backend reads
    size_t scratch_bytes = 0;   // activations and other working buffers (the capture's included)
    size_t capture_bytes = 0;   // of which the attention capture's buffers
    size_t device_used = 0;     // device memory in use (host RSS for the CPU backend)
    size_t device_total = 0;    // device memory in all (host RAM for the CPU backend)
    size_t process_device_bytes = 0;  // device memory this process uses (0: not known)
    bool device_is_host = true; // true: the "device" figures are host memory
    std::string device_name;    // the GPU's name ("" for the host)
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;  // "CPU", "CUDA 0 (NVIDIA H200)"

    // "" when this backend computes `model` as loaded, else one line saying
    // what it does not compute (the tensor and its type). A backend says which
    // tensor types it computes; the model does not decide for it.
    virtual std::string refusal(const Model& model) const = 0;

    // Storage for a KV cache of `layout` in this backend's memory. Throws
    // kvscope::Error naming what it does not hold (a value type, a layout).
    virtual std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) = 0;

    // Runs tokens[i] at positions[i], in order, through every layer. Each
    // token's keys and values go into a slot of `cache` (whose storage this
    // backend created) that the caller has already inserted for its position
    // in every layer; each token attends to the positions the cache holds at
    // that moment, up to its own.
    // `logits` receives n_vocab floats for the last token only. With
    // `capture`, it is resized to tokens.size() and receives each token's
    // attention probabilities in every layer and head.
    virtual void forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                         float* logits, std::vector<QueryAttention>* capture = nullptr) = 0;

    virtual BackendMemory memory() const = 0;
};

// Makes a backend for a model: how the front ends hand their choice of
// backend (backends/backend_factory.h) to the evaluations, which make one per
// session they run.
using BackendFactory = std::function<std::unique_ptr<Backend>(const Model& model)>;

}  // namespace kvscope
