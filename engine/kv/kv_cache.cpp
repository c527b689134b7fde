#include "kv/kv_cache.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace kvscope {

KvCache::KvCache(KvLayout layout, std::unique_ptr<KvStorage> storage)
    : layout_(std::move(layout)), storage_(std::move(storage)) {
    layout_.validate();
    if (!storage_) throw Error("KV cache: no storage given");
    first_stream_.resize(idx(layout_.shape.n_layer));
    for (int32_t l = 0; l < layout_.shape.n_layer; ++l) {
        first_stream_[idx(l)] = static_cast<int32_t>(streams_.size());
        for (int32_t g = 0; g < layout_.groups(l); ++g) {
            Stream s;
            s.slot_position.assign(idx(capacity(l)), kEmpty);
            streams_.push_back(std::move(s));
        }
    }
}

int32_t KvCache::insert(int32_t layer, int32_t position) {
    const int32_t slot = insert(layer, 0, position);
    for (int32_t g = 1; g < groups(layer); ++g) insert(layer, g, position);
    return slot;
}

int32_t KvCache::insert(int32_t layer, int32_t group, int32_t position) {
    if (layer < 0 || layer >= shape().n_layer || group < 0 || group >= groups(layer))
        throw Error("KV cache: no layer " + std::to_string(layer) + " group " + std::to_string(group));
    Stream& s = stream(layer, group);
    if (static_cast<int32_t>(s.held_slots.size()) >= capacity(layer))
        throw Error("KV cache layer " + std::to_string(layer) + " is full (" + std::to_string(capacity(layer)) +
                    " slots) and cannot take position " + std::to_string(position));
    if (slot_of(layer, group, position) != kEmpty)
        throw Error("KV cache layer " + std::to_string(layer) + " already holds position " + std::to_string(position));
    int32_t slot;
    if (!s.free_slots.empty()) {
        slot = s.free_slots.back();
        s.free_slots.pop_back();
    } else {
        slot = s.fresh++;
        if (slot >= s.usable) {  // a new page of storage
            s.usable += kPageSize;
            storage_->ensure_slots(layer, group, s.usable);
        }
    }
    s.slot_position[idx(slot)] = position;
    // Keep held_slots ordered by position; new positions are nearly always the largest.
    auto it = s.held_slots.end();
    while (it != s.held_slots.begin() && s.slot_position[idx(*(it - 1))] > position) --it;
    s.held_slots.insert(it, slot);
    return slot;
}

void KvCache::evict(int32_t layer, int32_t position) {
    for (int32_t g = 0; g < groups(layer); ++g) evict(layer, g, position);
}

void KvCache::evict(int32_t layer, int32_t group, int32_t position) {
    const int32_t slot = slot_of(layer, group, position);
    if (slot == kEmpty) return;
    Stream& s = stream(layer, group);
    s.slot_position[idx(slot)] = kEmpty;
    s.held_slots.erase(std::find(s.held_slots.begin(), s.held_slots.end(), slot));
    s.free_slots.push_back(slot);
}

void KvCache::clear() {
    // The storage stays; every slot used so far is free again, lowest first.
    for (Stream& s : streams_) {
        std::fill(s.slot_position.begin(), s.slot_position.end(), kEmpty);
        s.held_slots.clear();
        s.free_slots.clear();
        for (int32_t slot = s.fresh - 1; slot >= 0; --slot) s.free_slots.push_back(slot);
    }
}

int32_t KvCache::slot_of(int32_t layer, int32_t group, int32_t position) const {
    const Stream& s = stream(layer, group);
    // Held slots are ordered by position: binary search.
    auto it = std::lower_bound(s.held_slots.begin(), s.held_slots.end(), position,
                               [&](int32_t slot, int32_t p) { return s.slot_position[idx(slot)] < p; });
    if (it != s.held_slots.end() && s.slot_position[idx(*it)] == position) return *it;
    return kEmpty;
}

int32_t KvCache::next_free_slot(int32_t layer, int32_t group) const {
    const Stream& s = stream(layer, group);
    return s.free_slots.empty() ? s.fresh : s.free_slots.back();
}

size_t KvCache::bytes_held() const {
    size_t held_head_slots = 0;  // (held position, KV head) pairs
    for (int32_t l = 0; l < shape().n_layer; ++l)
        for (int32_t g = 0; g < groups(l); ++g)
            held_head_slots += held_slots(l, g).size() * idx(layout_.heads_per_group[idx(l)]);
    return held_head_slots * 2 * layout_.head_bytes();
}

}  // namespace kvscope
