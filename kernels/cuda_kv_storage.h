#pragma once
// The CUDA backend's KV storage: device memory, per layer (one slot group per
// layer, as the CPU's), in pages of kPageSize slots, one allocation each, so a
// page never moves once allocated; a device table of page addresses per layer
// lets the kernels find slot s at pages[s / 16] + (s % 16) · slot bytes.
// Inside a slot: [n_head_kv][head_dim] values of the cache's type (f32, f16,
// or q8_0 blocks), the CPU's layout.
#include <cstdint>
#include <vector>

#include "kernels/cuda_memory.h"
#include "kv/kv_storage.h"

namespace kvscope {

class CudaKvStorage final : public KvStorage {
public:
    explicit CudaKvStorage(const KvLayout& layout);

    std::string backend_name() const override { return "CUDA device"; }
    void ensure_slots(int32_t layer, int32_t group, int32_t n_slots) override;
    size_t allocated_bytes() const override;
    // Reads the keys back to the host (a policy's rare call, not the hot path).
    void key_norms(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const override;
    void key_cosines_to_mean(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const override;

    size_t slot_bytes() const;
    // Device arrays of the layer's page addresses (K and V), valid until the next ensure_slots.
    uint8_t* const* k_pages(int32_t layer) const { return layers_[static_cast<size_t>(layer)].k_table.as<uint8_t* const>(); }
    uint8_t* const* v_pages(int32_t layer) const { return layers_[static_cast<size_t>(layer)].v_table.as<uint8_t* const>(); }

private:
    // The slots' keys copied to the host as floats: [slots][n_head_kv][head_dim].
    std::vector<float> keys_on_host(int32_t layer, const std::vector<int32_t>& slots) const;
    struct Layer {
        std::vector<cuda::DeviceBuffer> k, v;  // [pages] kPageSize slots each
        cuda::DeviceBuffer k_table, v_table;   // [pages] device copies of the page addresses
    };
    std::vector<Layer> layers_;
};

}  // namespace kvscope
