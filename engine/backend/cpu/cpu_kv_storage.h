#pragma once
// The CPU backend's KV storage: host memory, per layer and slot group, in
// pages of kPageSize slots allocated one at a time (an allocated page never
// moves). Inside a slot, K (and V) are the group's KV heads one after the
// other: [heads of the group][head_dim] values of the cache's type (f32, f16,
// or q8_0 blocks of 32 values with one f16 scale), as llama.cpp lays out a
// row of its K cache.
#include <cstdint>
#include <memory>
#include <vector>

#include "kv/kv_storage.h"

namespace kvscope {

class CpuKvStorage final : public KvStorage {
public:
    explicit CpuKvStorage(const KvLayout& layout);

    std::string backend_name() const override { return "CPU"; }
    void ensure_slots(int32_t layer, int32_t group, int32_t n_slots) override;
    size_t allocated_bytes() const override;
    void key_norms(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const override;

    // Bytes of K (or V) of one slot of a group: heads of the group × head bytes.
    size_t slot_bytes(int32_t layer) const;
    // The stored K / V of one slot ([heads of the group][head_dim] values in the cache's type).
    uint8_t* k(int32_t layer, int32_t group, int32_t slot) { return at(layer, group, slot, false); }
    uint8_t* v(int32_t layer, int32_t group, int32_t slot) { return at(layer, group, slot, true); }
    const uint8_t* k(int32_t layer, int32_t group, int32_t slot) const { return at(layer, group, slot, false); }
    const uint8_t* v(int32_t layer, int32_t group, int32_t slot) const { return at(layer, group, slot, true); }
    // The same as f16 values (only for an f16 cache).
    const uint16_t* k_f16(int32_t layer, int32_t group, int32_t slot) const {
        return reinterpret_cast<const uint16_t*>(k(layer, group, slot));
    }
    const uint16_t* v_f16(int32_t layer, int32_t group, int32_t slot) const {
        return reinterpret_cast<const uint16_t*>(v(layer, group, slot));
    }

    // Writes one position's K and V ([heads of the group][head_dim] floats
    // each), converting to the cache's type.
    void store(int32_t layer, int32_t group, int32_t slot, const float* k, const float* v);
    // Reads them back as floats ([heads of the group][head_dim] each).
    void load_k(int32_t layer, int32_t group, int32_t slot, float* out) const;
    void load_v(int32_t layer, int32_t group, int32_t slot, float* out) const;

private:
    struct Page {
        std::unique_ptr<uint8_t[]> k;  // [kPageSize][slot bytes]
        std::unique_ptr<uint8_t[]> v;  // [kPageSize][slot bytes]
    };
    struct Stream {
        std::vector<Page> pages;  // slot s is in pages[s / kPageSize]
    };
    uint8_t* at(int32_t layer, int32_t group, int32_t slot, bool value) const;
    int64_t slot_values(int32_t layer) const;  // values of K (or V) in one slot

    std::vector<int32_t> first_stream_;  // [n_layer] index of the layer's group 0
    std::vector<Stream> streams_;
};

}  // namespace kvscope
