#include "kv/kv_cache.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace kvscope {

KvCache::KvCache(const KvCacheShape& shape, int32_t capacity) : shape_(shape), capacity_(capacity) {
    if (capacity < 1) throw InvalidSetting("KV cache capacity must be at least 1 slot, got " + std::to_string(capacity));
    if (shape.n_layer < 1 || shape.n_head_kv < 1 || shape.head_dim < 1)
        throw InvalidSetting("KV cache shape must have at least one layer, head and dimension");
    layers_.resize(idx(shape.n_layer));
    for (auto& l : layers_) l.slot_position.assign(idx(capacity), kEmpty);
}

int32_t KvCache::insert(int32_t layer, int32_t position) {
    Layer& l = layers_.at(idx(layer));
    if (static_cast<int32_t>(l.held_slots.size()) >= capacity_)
        throw Error("KV cache layer " + std::to_string(layer) + " is full (" + std::to_string(capacity_) +
                    " slots) and cannot take position " + std::to_string(position));
    if (slot_of(layer, position) != kEmpty)
        throw Error("KV cache layer " + std::to_string(layer) + " already holds position " + std::to_string(position));
    int32_t slot;
    if (!l.free_slots.empty()) {
        slot = l.free_slots.back();
        l.free_slots.pop_back();
    } else {
        slot = l.allocated++;
        const size_t need = idx(l.allocated) * idx(shape_.kv_dim());
        l.k.resize(need);
        l.v.resize(need);
    }
    l.slot_position[idx(slot)] = position;
    // Keep held_slots ordered by position; new positions are nearly always the largest.
    auto it = l.held_slots.end();
    while (it != l.held_slots.begin() && l.slot_position[idx(*(it - 1))] > position) --it;
    l.held_slots.insert(it, slot);
    return slot;
}

void KvCache::evict(int32_t layer, int32_t position) {
    Layer& l = layers_.at(idx(layer));
    const int32_t slot = slot_of(layer, position);
    if (slot == kEmpty) return;
    l.slot_position[idx(slot)] = kEmpty;
    l.held_slots.erase(std::find(l.held_slots.begin(), l.held_slots.end(), slot));
    l.free_slots.push_back(slot);
}

void KvCache::clear() {
    for (auto& l : layers_) {
        std::fill(l.slot_position.begin(), l.slot_position.end(), kEmpty);
        l.held_slots.clear();
        l.free_slots.clear();
        for (int32_t s = l.allocated - 1; s >= 0; --s) l.free_slots.push_back(s);
    }
}

int32_t KvCache::slot_of(int32_t layer, int32_t position) const {
    const Layer& l = layers_.at(idx(layer));
    // Held slots are ordered by position: binary search.
    auto it = std::lower_bound(l.held_slots.begin(), l.held_slots.end(), position,
                               [&](int32_t slot, int32_t p) { return l.slot_position[idx(slot)] < p; });
    if (it != l.held_slots.end() && l.slot_position[idx(*it)] == position) return *it;
    return kEmpty;
}

size_t KvCache::bytes_held() const {
    size_t held = 0;
    for (const auto& l : layers_) held += l.held_slots.size();
    return held * bytes_per_slot();
}

}  // namespace kvscope
