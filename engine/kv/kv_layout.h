#pragma once
// What a KV cache must hold, as a backend needs to know it to allocate the
// storage: the model's K/V shape, how many slots each layer may hold, how a
// layer's KV heads share slots, and the value type.
//
// Slot groups: the KV heads of one group hold the same positions in the same
// slots. Every policy today keeps the same positions in all heads of a layer,
// so each layer has one group of all its KV heads (heads_per_group =
// n_head_kv); per-head budgets give each KV head a group of its own
// (heads_per_group = 1). Models with their own sliding-window layers give
// those layers a smaller capacity.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv/kv_types.h"

namespace kvscope {

struct KvCacheShape {
    int32_t n_layer = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim = 0;  // any size; q8_0 values need a multiple of 32
    int32_t kv_dim() const { return n_head_kv * head_dim; }
};

struct KvLayout {
    KvCacheShape shape;
    std::vector<int32_t> layer_capacity;   // [n_layer] most slots one group of the layer holds (>= 1)
    std::vector<int32_t> heads_per_group;  // [n_layer] KV heads sharing one slot list (divides n_head_kv)
    KvValueType type = KvValueType::F16;
    PositionMode positions = PositionMode::Original;

    // Every layer the same capacity, one group of all its KV heads.
    static KvLayout uniform(const KvCacheShape& shape, int32_t capacity, KvValueType type = KvValueType::F16,
                            PositionMode positions = PositionMode::Original);

    // Throws InvalidSetting naming what does not fit.
    void validate() const;

    int32_t groups(int32_t layer) const { return shape.n_head_kv / heads_per_group[static_cast<size_t>(layer)]; }
    // Bytes of one KV head's K (or V) in one slot: head_dim values of the type.
    size_t head_bytes() const;
    // Bytes per stored value: 4 (f32), 2 (f16), 34/32 (q8_0).
    double bytes_per_value() const;
    // K and V of one position in one layer (all KV heads).
    size_t bytes_per_position() const { return 2 * static_cast<size_t>(shape.n_head_kv) * head_bytes(); }
};

}  // namespace kvscope
