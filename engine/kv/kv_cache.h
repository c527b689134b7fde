#pragma once
// The KV cache's bookkeeping: per layer and slot group (kv_layout.h), which
// physical slot holds which token position, the held slots in position order,
// free slots, and the accounting. Policies (window, sinks, h2o, ...) decide
// which positions stay; the cache records it. The bytes of K and V live in a
// KvStorage the backend created (kv_storage.h); this class tells the storage
// to grow, a page at a time, and never touches the bytes.
//
// Slots: a freed slot is reused before a new one, the lowest new one first,
// so a window of W positions cycles through W slots (a ring buffer). The
// whole-layer calls (insert(layer, position), ...) act on every group of the
// layer; the reads without a group read group 0, which is every group while
// each layer has one (policies keep the same positions in all heads today).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kv/kv_layout.h"
#include "kv/kv_storage.h"

namespace kvscope {

class KvCache {
public:
    static constexpr int32_t kEmpty = -1;

    // Validates the layout (InvalidSetting); `storage` must be made for it.
    KvCache(KvLayout layout, std::unique_ptr<KvStorage> storage);

    const KvLayout& layout() const { return layout_; }
    const KvCacheShape& shape() const { return layout_.shape; }
    int32_t capacity(int32_t layer) const { return layout_.layer_capacity[idx(layer)]; }
    KvValueType value_type() const { return layout_.type; }
    PositionMode position_mode() const { return layout_.positions; }
    double bytes_per_value() const { return layout_.bytes_per_value(); }
    // K and V of one position in one layer: 2 × n_head_kv × head_dim × bytes per value.
    size_t bytes_per_slot() const { return layout_.bytes_per_position(); }

    int32_t groups(int32_t layer) const { return layout_.groups(layer); }
    int32_t group_of(int32_t layer, int32_t kv_head) const {
        return kv_head / layout_.heads_per_group[idx(layer)];
    }

    // Stores a new position in a free slot of every group of `layer` and
    // returns its slot in group 0. Throws kvscope::Error when the layer is
    // full or already holds the position.
    int32_t insert(int32_t layer, int32_t position);
    int32_t insert(int32_t layer, int32_t group, int32_t position);
    // Frees the slot holding `position` (no-op if it is not held).
    void evict(int32_t layer, int32_t position);
    void evict(int32_t layer, int32_t group, int32_t position);
    void clear();

    int32_t position_of(int32_t layer, int32_t slot) const { return position_of(layer, 0, slot); }
    int32_t position_of(int32_t layer, int32_t group, int32_t slot) const {
        return stream(layer, group).slot_position[idx(slot)];
    }
    int32_t slot_of(int32_t layer, int32_t position) const { return slot_of(layer, 0, position); }
    int32_t slot_of(int32_t layer, int32_t group, int32_t position) const;
    // Slots of the held positions, ordered by position (the order attention sees keys in).
    const std::vector<int32_t>& held_slots(int32_t layer) const { return held_slots(layer, 0); }
    const std::vector<int32_t>& held_slots(int32_t layer, int32_t group) const { return stream(layer, group).held_slots; }
    int32_t held_count(int32_t layer) const { return static_cast<int32_t>(held_slots(layer).size()); }
    // The slot the next insert will take.
    int32_t next_free_slot(int32_t layer) const { return next_free_slot(layer, 0); }
    int32_t next_free_slot(int32_t layer, int32_t group) const;

    // Bytes of K and V held: 2 × kv_heads × head_dim × bytes per value for
    // each held position of each layer (per group: its heads).
    size_t bytes_held() const;
    // Bytes the storage has allocated (whole pages).
    size_t bytes_allocated() const { return storage_->allocated_bytes(); }

    KvStorage& storage() { return *storage_; }
    const KvStorage& storage() const { return *storage_; }

private:
    // One slot group of one layer.
    struct Stream {
        std::vector<int32_t> slot_position;  // [capacity] position held, or kEmpty
        std::vector<int32_t> free_slots;     // freed slots, reused before new ones (last freed first)
        std::vector<int32_t> held_slots;     // held slots ordered by position
        int32_t fresh = 0;                   // slots ever used: [0, fresh)
        int32_t usable = 0;                  // slots the storage holds: [0, usable), whole pages
    };
    static size_t idx(int32_t i) { return static_cast<size_t>(i); }
    const Stream& stream(int32_t layer, int32_t group) const {
        return streams_[idx(first_stream_[idx(layer)] + group)];
    }
    Stream& stream(int32_t layer, int32_t group) { return streams_[idx(first_stream_[idx(layer)] + group)]; }

    KvLayout layout_;
    std::unique_ptr<KvStorage> storage_;
    std::vector<int32_t> first_stream_;  // [n_layer] index of the layer's group 0 in streams_
    std::vector<Stream> streams_;        // [sum of groups over layers]
};

}  // namespace kvscope
