#pragma once
// Where the bytes of K and V live. The backend that computes with them
// creates it (Backend::create_kv_storage): host memory for the CPU, device
// memory for CUDA, as llama.cpp allocates each layer's K/V in the chosen
// backend's buffer. The KV cache's bookkeeping (kv_cache.h) says which slot
// holds which position; the storage only holds bytes, in whatever layout
// inside a slot its backend reads fastest.
//
// Storage grows a page (kPageSize slots) at a time and never moves or copies
// what it holds: an eviction frees a slot for reuse, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kv/kv_layout.h"

namespace kvscope {

class KvStorage {
public:
    virtual ~KvStorage() = default;

    // The backend whose memory this is ("CPU", "CUDA"), for messages.
    virtual std::string backend_name() const = 0;
    const KvLayout& layout() const { return layout_; }

    // Makes slots [0, n_slots) of (layer, group) usable (n_slots a multiple of
    // kPageSize, at most the layer's capacity rounded up to a page). Slots
    // already usable keep their bytes.
    virtual void ensure_slots(int32_t layer, int32_t group, int32_t n_slots) = 0;
    // Bytes allocated for K and V, all layers (whole pages).
    virtual size_t allocated_bytes() const = 0;

    // Operations a policy needs on the bytes (policies never read them):
    // the L2 norm of each stored key, for key-scoring policies (Knorm, KeyDiff).
    // out: [slots.size()][heads of the group], in the order of `slots`. Keys
    // are as stored (after RoPE in PositionMode::Original, before it in InCache).
    virtual void key_norms(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const = 0;
    // KeyDiff's similarity: per head, the cosine between each key and the mean
    // of the given slots' keys, each normalised first (key_scores.h has the
    // arithmetic). out: [slots.size()][heads of the group], in slot order.
    virtual void key_cosines_to_mean(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const = 0;

protected:
    explicit KvStorage(KvLayout layout) : layout_(std::move(layout)) {}

private:
    KvLayout layout_;
};

}  // namespace kvscope
