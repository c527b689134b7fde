#include "kv/kv_layout.h"

#include <algorithm>
#include <string>

#include "quant/quant.h"
#include "util/error.h"

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

KvLayout KvLayout::uniform(const KvCacheShape& shape, int32_t capacity, KvValueType type, PositionMode positions) {
    KvLayout l;
    l.shape = shape;
    l.layer_capacity.assign(static_cast<size_t>(std::max(0, shape.n_layer)), capacity);
    l.heads_per_group.assign(static_cast<size_t>(std::max(0, shape.n_layer)), shape.n_head_kv);
    l.type = type;
    l.positions = positions;
    return l;
}

void KvLayout::validate() const {
    if (shape.n_layer < 1 || shape.n_head_kv < 1 || shape.head_dim < 1)
        throw InvalidSetting("KV cache shape must have at least one layer, head and dimension");
    if (type == KvValueType::Q8_0 && shape.head_dim % 32 != 0)
        throw InvalidSetting("KV type q8_0 needs a head size that is a multiple of 32, got " + std::to_string(shape.head_dim));
    if (layer_capacity.size() != static_cast<size_t>(shape.n_layer) || heads_per_group.size() != layer_capacity.size())
        throw InvalidSetting("KV layout must give a capacity and a head grouping for each of the " +
                             std::to_string(shape.n_layer) + " layers");
    for (size_t l = 0; l < layer_capacity.size(); ++l) {
        if (layer_capacity[l] < 1)
            throw InvalidSetting("KV cache capacity must be at least 1 slot, got " + std::to_string(layer_capacity[l]) +
                                 " for layer " + std::to_string(l));
        const int32_t h = heads_per_group[l];
        if (h < 1 || shape.n_head_kv % h != 0)
            throw InvalidSetting("layer " + std::to_string(l) + ": " + std::to_string(h) +
                                 " KV heads per slot group does not divide the " + std::to_string(shape.n_head_kv) +
                                 " KV heads");
    }
}

size_t KvLayout::head_bytes() const { return row_bytes(storage_type(type), shape.head_dim); }

double KvLayout::bytes_per_value() const {
    return static_cast<double>(head_bytes()) / static_cast<double>(shape.head_dim);
}

}  // namespace kvscope
