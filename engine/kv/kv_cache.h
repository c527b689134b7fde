#pragma once
// The KV cache: per layer, a set of physical slots each holding the keys and
// values of one token position for every KV head. A slot -> position map says
// which position each slot holds; policies (window, sinks, h2o, ...) decide
// which positions stay, the cache only stores and accounts.
//
// Storage per layer (f16, as llama.cpp's default cache type):
//   k: [slot][n_head_kv][head_dim]   v: [slot][n_head_kv][head_dim]
// Slots are filled in increasing index order as needed, so memory grows with
// what is held, not with the capacity.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvscope {

struct KvCacheShape {
    int32_t n_layer = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim = 0;
    int32_t kv_dim() const { return n_head_kv * head_dim; }
};

class KvCache {
public:
    static constexpr int32_t kEmpty = -1;

    // capacity: the most slots a layer may hold (>= 1).
    KvCache(const KvCacheShape& shape, int32_t capacity);

    const KvCacheShape& shape() const { return shape_; }
    int32_t capacity() const { return capacity_; }
    size_t bytes_per_value() const { return sizeof(uint16_t); }
    // K and V of one position in one layer: 2 × n_head_kv × head_dim × bytes per value.
    size_t bytes_per_slot() const { return 2 * static_cast<size_t>(shape_.kv_dim()) * bytes_per_value(); }

    // Stores a new position in a free slot of `layer` and returns the slot.
    // Throws kvscope::Error when the layer is full or the position is held already.
    int32_t insert(int32_t layer, int32_t position);
    // Frees the slot holding `position` (no-op if it is not held).
    void evict(int32_t layer, int32_t position);
    void clear();

    int32_t position_of(int32_t layer, int32_t slot) const { return layers_[idx(layer)].slot_position[idx(slot)]; }
    int32_t slot_of(int32_t layer, int32_t position) const;
    // Slots of the held positions, ordered by position (the order attention sees keys in).
    const std::vector<int32_t>& held_slots(int32_t layer) const { return layers_[idx(layer)].held_slots; }
    int32_t held_count(int32_t layer) const { return static_cast<int32_t>(held_slots(layer).size()); }
    // Bytes of K and V held in all layers: 2 × layers × kv_heads × head_dim × held × bytes per value.
    size_t bytes_held() const;

    // [n_head_kv][head_dim] f16 values of one slot.
    uint16_t* k_slot(int32_t layer, int32_t slot) { return layers_[idx(layer)].k.data() + offset(slot); }
    uint16_t* v_slot(int32_t layer, int32_t slot) { return layers_[idx(layer)].v.data() + offset(slot); }
    const uint16_t* k_slot(int32_t layer, int32_t slot) const { return layers_[idx(layer)].k.data() + offset(slot); }
    const uint16_t* v_slot(int32_t layer, int32_t slot) const { return layers_[idx(layer)].v.data() + offset(slot); }

private:
    struct Layer {
        std::vector<uint16_t> k;              // [allocated slots][kv_dim]
        std::vector<uint16_t> v;              // [allocated slots][kv_dim]
        std::vector<int32_t> slot_position;   // [capacity] position held, or kEmpty
        std::vector<int32_t> free_slots;      // freed slots, reused before new ones
        std::vector<int32_t> held_slots;      // held slots ordered by position
        int32_t allocated = 0;                // slots with storage
    };
    static size_t idx(int32_t i) { return static_cast<size_t>(i); }
    size_t offset(int32_t slot) const { return static_cast<size_t>(slot) * static_cast<size_t>(shape_.kv_dim()); }

    KvCacheShape shape_;
    int32_t capacity_;
    std::vector<Layer> layers_;
};

}  // namespace kvscope
