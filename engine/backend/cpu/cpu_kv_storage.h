#pragma once
// The CPU backend's KV storage: host memory, per layer and slot group, in
// pages of kPageSize slots allocated one at a time (an allocated page never
// moves). The pages of a group's K (and of its V) follow each other in one
// range of address space reserved for the layer's capacity
// (util/reserved_memory.h): memory is only used by pages written, and decode
// reads a layer's keys as one stream. Inside a slot, K (and V) are the group's KV heads one after the
// other: [heads of the group][head_dim] values of the cache's type (f32, or
// q8_0 blocks of 32 values with one f16 scale), as llama.cpp lays out a row of
// its K cache. An f16 cache's pages are transposed instead:
// [heads of the group][head_dim][kPageSize slots], so that decode reads one
// element of 16 slots as one vector (the slots are the lanes of its sums), and
// P·V each output dimension's values contiguously (llama.cpp keeps its V cache
// transposed for that reason).
#include <cstdint>
#include <vector>

#include "kv/kv_storage.h"
#include "util/reserved_memory.h"

namespace kvscope {

class CpuKvStorage final : public KvStorage {
public:
    explicit CpuKvStorage(const KvLayout& layout);

    std::string backend_name() const override { return "CPU"; }
    void ensure_slots(int32_t layer, int32_t group, int32_t n_slots) override;
    size_t allocated_bytes() const override;
    void key_norms(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const override;
    void key_cosines_to_mean(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const override;

    // Bytes of K (or V) of one slot of a group: heads of the group × head bytes.
    size_t slot_bytes(int32_t layer) const;
    // Whether pages are transposed (an f16 cache; see the top of this file).
    bool transposed() const { return layout().type == KvValueType::F16; }
    // Pages allocated for a group: slots [0, pages · kPageSize) exist.
    int32_t pages(int32_t layer, int32_t group) const;
    // An f16 cache's K / V page: value i ([heads of the group][head_dim] order)
    // of slot page · kPageSize + s at [i · kPageSize + s].
    const uint16_t* k_page_f16(int32_t layer, int32_t group, int32_t page) const { return page_f16(layer, group, page, false); }
    const uint16_t* v_page_f16(int32_t layer, int32_t group, int32_t page) const { return page_f16(layer, group, page, true); }

    // Writes one position's K and V ([heads of the group][head_dim] floats
    // each), converting to the cache's type.
    void store(int32_t layer, int32_t group, int32_t slot, const float* k, const float* v);
    // Reads them back as floats ([heads of the group][head_dim] each).
    void load_k(int32_t layer, int32_t group, int32_t slot, float* out) const { load(layer, group, slot, false, out); }
    void load_v(int32_t layer, int32_t group, int32_t slot, float* out) const { load(layer, group, slot, true, out); }

private:
    struct Stream {
        // Page p at p · page bytes: [kPageSize][slot bytes]; f16: [slot values][kPageSize].
        ReservedMemory k, v;
        int32_t pages = 0;  // pages allocated: slots [0, pages · kPageSize)
    };
    const Stream& stream(int32_t layer, int32_t group) const;
    // A slot's bytes in its page (pages not transposed).
    uint8_t* at(int32_t layer, int32_t group, int32_t slot, bool value) const;
    uint16_t* page_f16(int32_t layer, int32_t group, int32_t page, bool value) const;
    void load(int32_t layer, int32_t group, int32_t slot, bool value, float* out) const;
    int64_t slot_values(int32_t layer) const;  // values of K (or V) in one slot
    size_t page_bytes(int32_t layer) const { return static_cast<size_t>(kPageSize) * slot_bytes(layer); }

    std::vector<int32_t> first_stream_;  // [n_layer] index of the layer's group 0
    std::vector<Stream> streams_;
};

}  // namespace kvscope
