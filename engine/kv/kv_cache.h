#pragma once
// The KV cache: per layer, a set of physical slots each holding the keys and
// values of one token position for every KV head. A slot -> position map says
// which position each slot holds; policies (window, sinks, h2o, ...) decide
// which positions stay, the cache only stores and accounts.
//
// Storage per layer, in the cache's value type (f16 by default, as llama.cpp;
// f32; or q8_0: blocks of 32 values with one f16 scale):
//   k: [slot][n_head_kv][head_dim]   v: [slot][n_head_kv][head_dim]
// In PositionMode::Original keys are stored after RoPE at their text
// position; in InCache they are stored unrotated (rotated at their rank in the
// cache when attention reads them). Slots are filled as needed, so memory
// grows with what is held, not with the capacity.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv/kv_policy.h"

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

    // capacity: the most slots a layer may hold (>= 1). Q8_0 needs head_dim % 32 == 0.
    KvCache(const KvCacheShape& shape, int32_t capacity, KvValueType type = KvValueType::F16,
            PositionMode positions = PositionMode::Original);

    const KvCacheShape& shape() const { return shape_; }
    int32_t capacity() const { return capacity_; }
    KvValueType value_type() const { return type_; }
    PositionMode position_mode() const { return positions_; }
    // Bytes per value: 4 (f32), 2 (f16), 34/32 (q8_0).
    double bytes_per_value() const;
    // Bytes of K (or V) of one slot: n_head_kv × head_dim values.
    size_t row_bytes() const { return row_bytes_; }
    // K and V of one position in one layer: 2 × n_head_kv × head_dim × bytes per value.
    size_t bytes_per_slot() const { return 2 * row_bytes_; }

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

    // Raw rows ([n_head_kv][head_dim] values in the cache's type).
    uint8_t* k_row(int32_t layer, int32_t slot) { return layers_[idx(layer)].k.data() + offset(slot); }
    uint8_t* v_row(int32_t layer, int32_t slot) { return layers_[idx(layer)].v.data() + offset(slot); }
    const uint8_t* k_row(int32_t layer, int32_t slot) const { return layers_[idx(layer)].k.data() + offset(slot); }
    const uint8_t* v_row(int32_t layer, int32_t slot) const { return layers_[idx(layer)].v.data() + offset(slot); }
    // The same as f16 values (only for an f16 cache).
    const uint16_t* k_slot(int32_t layer, int32_t slot) const { return reinterpret_cast<const uint16_t*>(k_row(layer, slot)); }
    const uint16_t* v_slot(int32_t layer, int32_t slot) const { return reinterpret_cast<const uint16_t*>(v_row(layer, slot)); }

    // Writes one position's K and V ([kv_dim] floats each), converting to the cache's type.
    void store(int32_t layer, int32_t slot, const float* k, const float* v);
    // Reads them back as floats ([kv_dim] each).
    void load_k(int32_t layer, int32_t slot, float* out) const;
    void load_v(int32_t layer, int32_t slot, float* out) const;
    // The slot the next insert into `layer` will take.
    int32_t next_free_slot(int32_t layer) const;

private:
    struct Layer {
        std::vector<uint8_t> k;               // [allocated slots][row_bytes]
        std::vector<uint8_t> v;               // [allocated slots][row_bytes]
        std::vector<int32_t> slot_position;   // [capacity] position held, or kEmpty
        std::vector<int32_t> free_slots;      // freed slots, reused before new ones
        std::vector<int32_t> held_slots;      // held slots ordered by position
        int32_t allocated = 0;                // slots with storage
    };
    static size_t idx(int32_t i) { return static_cast<size_t>(i); }
    size_t offset(int32_t slot) const { return static_cast<size_t>(slot) * row_bytes_; }

    KvCacheShape shape_;
    int32_t capacity_;
    KvValueType type_;
    PositionMode positions_;
    size_t row_bytes_;
    std::vector<Layer> layers_;
};

}  // namespace kvscope
