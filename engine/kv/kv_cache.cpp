#include "kv/kv_cache.h"

#include <algorithm>
#include <string>

#include "quant/quant.h"
#include "util/error.h"
#include "util/fp16.h"

namespace kvscope {

namespace {
TensorType storage_type(KvValueType t) {
    switch (t) {
        case KvValueType::F32: return TensorType::F32;
        case KvValueType::F16: return TensorType::F16;
        case KvValueType::Q8_0: return TensorType::Q8_0;
    }
    return TensorType::F16;
}
}  // namespace

KvCache::KvCache(const KvCacheShape& shape, int32_t capacity, KvValueType type, PositionMode positions)
    : shape_(shape), capacity_(capacity), type_(type), positions_(positions) {
    if (capacity < 1) throw InvalidSetting("KV cache capacity must be at least 1 slot, got " + std::to_string(capacity));
    if (shape.n_layer < 1 || shape.n_head_kv < 1 || shape.head_dim < 1)
        throw InvalidSetting("KV cache shape must have at least one layer, head and dimension");
    if (type == KvValueType::Q8_0 && shape.head_dim % 32 != 0)
        throw InvalidSetting("KV type q8_0 needs a head size that is a multiple of 32, got " + std::to_string(shape.head_dim));
    row_bytes_ = kvscope::row_bytes(storage_type(type), shape.kv_dim());
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
        const size_t need = idx(l.allocated) * row_bytes_;
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

namespace kvscope {

double KvCache::bytes_per_value() const {
    return static_cast<double>(row_bytes_) / static_cast<double>(shape_.kv_dim());
}

void KvCache::store(int32_t layer, int32_t slot, const float* k, const float* v) {
    const int64_t n = shape_.kv_dim();
    switch (type_) {
        case KvValueType::F32:
            std::copy(k, k + n, reinterpret_cast<float*>(k_row(layer, slot)));
            std::copy(v, v + n, reinterpret_cast<float*>(v_row(layer, slot)));
            break;
        case KvValueType::F16: {
            auto* kd = reinterpret_cast<uint16_t*>(k_row(layer, slot));
            auto* vd = reinterpret_cast<uint16_t*>(v_row(layer, slot));
            for (int64_t i = 0; i < n; ++i) {
                kd[i] = f32_to_fp16(k[i]);
                vd[i] = f32_to_fp16(v[i]);
            }
            break;
        }
        case KvValueType::Q8_0: {
            // Q8_0 blocks as llama.cpp's quantised cache: the same format as the
            // activations quantised for Q8_0 weights.
            QuantizedVector q;
            quantize_for_dot(TensorType::Q8_0, k, n, q);
            std::copy(q.bytes.begin(), q.bytes.end(), k_row(layer, slot));
            quantize_for_dot(TensorType::Q8_0, v, n, q);
            std::copy(q.bytes.begin(), q.bytes.end(), v_row(layer, slot));
            break;
        }
    }
}

void KvCache::load_k(int32_t layer, int32_t slot, float* out) const {
    dequantize_row(storage_type(type_), k_row(layer, slot), out, shape_.kv_dim());
}

void KvCache::load_v(int32_t layer, int32_t slot, float* out) const {
    dequantize_row(storage_type(type_), v_row(layer, slot), out, shape_.kv_dim());
}

int32_t KvCache::next_free_slot(int32_t layer) const {
    const Layer& l = layers_.at(idx(layer));
    return l.free_slots.empty() ? l.allocated : l.free_slots.back();
}

}  // namespace kvscope
