#include "kernels/cuda_kv_storage.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "kv/key_scores.h"
#include "quant/quant.h"
#include "util/error.h"

namespace kvscope {

CudaKvStorage::CudaKvStorage(const KvLayout& layout) : KvStorage(layout) {
    layout.validate();
    for (int32_t l = 0; l < layout.shape.n_layer; ++l)
        if (layout.groups(l) != 1)
            throw Error("the CUDA backend keeps one slot list per layer; per-KV-head slot groups come with per-head policies");
    layers_.resize(static_cast<size_t>(layout.shape.n_layer));
}

size_t CudaKvStorage::slot_bytes() const { return static_cast<size_t>(layout().shape.n_head_kv) * layout().head_bytes(); }

void CudaKvStorage::ensure_slots(int32_t layer, int32_t /*group*/, int32_t n_slots) {
    Layer& l = layers_.at(static_cast<size_t>(layer));
    const size_t pages = static_cast<size_t>((n_slots + kPageSize - 1) / kPageSize);
    if (l.k.size() >= pages) return;
    const size_t page_bytes = static_cast<size_t>(kPageSize) * slot_bytes();
    while (l.k.size() < pages) {
        const std::string what = "a KV cache page (16 slots) of layer " + std::to_string(layer);
        l.k.emplace_back(page_bytes, what);
        l.v.emplace_back(page_bytes, what);
        // A slot is always a valid value, even before it is written.
        cuda::check(cudaMemset(l.k.back().get(), 0, page_bytes), "cudaMemset (KV page)");
        cuda::check(cudaMemset(l.v.back().get(), 0, page_bytes), "cudaMemset (KV page)");
    }
    // The memsets run on the legacy stream, which the backend's non-blocking
    // stream does not wait for: finish them before a kernel writes the page.
    cuda::check(cudaDeviceSynchronize(), "clearing new KV pages");
    // The tables of page addresses, rebuilt whole (a few pointers).
    std::vector<uint8_t*> k_addr, v_addr;
    for (size_t p = 0; p < l.k.size(); ++p) {
        k_addr.push_back(l.k[p].as<uint8_t>());
        v_addr.push_back(l.v[p].as<uint8_t>());
    }
    const size_t table_bytes = k_addr.size() * sizeof(uint8_t*);
    // Doubling when it grows, so a long run does not reallocate the tables at every page.
    if (table_bytes > l.k_table.bytes()) {
        l.k_table.ensure(std::max(table_bytes, 2 * l.k_table.bytes()), "KV page table");
        l.v_table.ensure(std::max(table_bytes, 2 * l.v_table.bytes()), "KV page table");
    }
    cuda::check(cudaMemcpy(l.k_table.get(), k_addr.data(), table_bytes, cudaMemcpyHostToDevice), "cudaMemcpy (KV page table)");
    cuda::check(cudaMemcpy(l.v_table.get(), v_addr.data(), table_bytes, cudaMemcpyHostToDevice), "cudaMemcpy (KV page table)");
}

size_t CudaKvStorage::allocated_bytes() const {
    size_t pages = 0;
    for (const Layer& l : layers_) pages += l.k.size() + l.v.size();
    return pages * static_cast<size_t>(kPageSize) * slot_bytes();
}

std::vector<float> CudaKvStorage::keys_on_host(int32_t layer, const std::vector<int32_t>& slots) const {
    const Layer& l = layers_.at(static_cast<size_t>(layer));
    const size_t n_values = static_cast<size_t>(layout().shape.n_head_kv) * static_cast<size_t>(layout().shape.head_dim);
    std::vector<uint8_t> row(slot_bytes());
    std::vector<float> keys(slots.size() * n_values);  // [slots][n_head_kv][head_dim]
    const TensorType type = layout().type == KvValueType::F32 ? TensorType::F32
                            : layout().type == KvValueType::F16 ? TensorType::F16
                                                                : TensorType::Q8_0;
    for (size_t i = 0; i < slots.size(); ++i) {
        const int32_t s = slots[i];
        const uint8_t* src = l.k.at(static_cast<size_t>(s / kPageSize)).as<uint8_t>() +
                             static_cast<size_t>(s % kPageSize) * slot_bytes();
        cuda::check(cudaMemcpy(row.data(), src, row.size(), cudaMemcpyDeviceToHost), "cudaMemcpy (stored keys)");
        dequantize_row(type, row.data(), keys.data() + i * n_values, static_cast<int64_t>(n_values));
    }
    return keys;
}

void CudaKvStorage::key_cosines_to_mean(int32_t layer, int32_t /*group*/, const std::vector<int32_t>& slots, float* out) const {
    const std::vector<float> keys = keys_on_host(layer, slots);
    cosines_to_mean_key(keys.data(), slots.size(), layout().shape.n_head_kv, layout().shape.head_dim, out);
}

void CudaKvStorage::key_norms(int32_t layer, int32_t /*group*/, const std::vector<int32_t>& slots, float* out) const {
    const int32_t heads = layout().shape.n_head_kv, hd = layout().shape.head_dim;
    const std::vector<float> keys = keys_on_host(layer, slots);
    for (size_t i = 0; i < slots.size(); ++i) {
        const float* key = keys.data() + i * static_cast<size_t>(heads) * static_cast<size_t>(hd);
        for (int32_t h = 0; h < heads; ++h) {
            double sum = 0;
            for (int32_t d = 0; d < hd; ++d) sum += static_cast<double>(key[static_cast<size_t>(h * hd + d)]) * key[static_cast<size_t>(h * hd + d)];
            out[i * static_cast<size_t>(heads) + static_cast<size_t>(h)] = static_cast<float>(std::sqrt(sum));
        }
    }
}

}  // namespace kvscope
