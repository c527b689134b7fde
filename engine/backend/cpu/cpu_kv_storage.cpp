#include "backend/cpu/cpu_kv_storage.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kv/key_scores.h"
#include "quant/quant.h"
#include "util/error.h"
#include "util/fp16.h"

namespace kvscope {
namespace {

size_t sz(int64_t n) { return static_cast<size_t>(n); }

TensorType storage_type(KvValueType t) {
    switch (t) {
        case KvValueType::F32: return TensorType::F32;
        case KvValueType::F16: return TensorType::F16;
        case KvValueType::Q8_0: return TensorType::Q8_0;
    }
    return TensorType::F16;
}

}  // namespace

CpuKvStorage::CpuKvStorage(const KvLayout& layout) : KvStorage(layout) {
    layout.validate();
    first_stream_.resize(sz(layout.shape.n_layer));
    for (int32_t l = 0; l < layout.shape.n_layer; ++l) {
        first_stream_[sz(l)] = static_cast<int32_t>(streams_.size());
        // Address space for the layer's capacity, rounded up to whole pages.
        const size_t reserve = sz((layout.layer_capacity[sz(l)] + kPageSize - 1) / kPageSize) * page_bytes(l);
        for (int32_t g = 0; g < layout.groups(l); ++g) {
            Stream s;
            s.k = ReservedMemory(reserve);
            s.v = ReservedMemory(reserve);
            streams_.push_back(std::move(s));
        }
    }
}

int64_t CpuKvStorage::slot_values(int32_t layer) const {
    return int64_t{layout().heads_per_group[sz(layer)]} * layout().shape.head_dim;
}

size_t CpuKvStorage::slot_bytes(int32_t layer) const {
    return sz(layout().heads_per_group[sz(layer)]) * layout().head_bytes();
}

void CpuKvStorage::ensure_slots(int32_t layer, int32_t group, int32_t n_slots) {
    Stream& s = streams_.at(sz(first_stream_.at(sz(layer)) + group));
    const int32_t pages = (n_slots + kPageSize - 1) / kPageSize;
    if (sz(pages) * page_bytes(layer) > s.k.size())
        throw Error("KV storage: " + std::to_string(n_slots) + " slots asked of layer " + std::to_string(layer) +
                    ", whose capacity is " + std::to_string(layout().layer_capacity[sz(layer)]));
    // The reserved range is zeroed where never written: a slot's bytes are
    // always a valid value, even before it is written.
    s.pages = std::max(s.pages, pages);
}

size_t CpuKvStorage::allocated_bytes() const {
    size_t total = 0;
    for (int32_t l = 0; l < layout().shape.n_layer; ++l)
        for (int32_t g = 0; g < layout().groups(l); ++g)
            total += sz(streams_[sz(first_stream_[sz(l)] + g)].pages) * 2 * page_bytes(l);
    return total;
}

const CpuKvStorage::Stream& CpuKvStorage::stream(int32_t layer, int32_t group) const {
    return streams_[sz(first_stream_[sz(layer)] + group)];
}

int32_t CpuKvStorage::pages(int32_t layer, int32_t group) const { return stream(layer, group).pages; }

uint8_t* CpuKvStorage::at(int32_t layer, int32_t group, int32_t slot, bool value) const {
    const Stream& s = stream(layer, group);
    return (value ? s.v : s.k).data() + sz(slot) * slot_bytes(layer);  // pages lie one after the other
}

uint16_t* CpuKvStorage::page_f16(int32_t layer, int32_t group, int32_t page, bool value) const {
    const Stream& s = stream(layer, group);
    return reinterpret_cast<uint16_t*>((value ? s.v : s.k).data() + sz(page) * page_bytes(layer));
}

namespace {
// An f16 V page's element i of slot lane ([slot values][kPageSize]).
size_t transposed_at(int64_t i, int32_t lane) { return sz(i) * sz(kPageSize) + sz(lane); }
}  // namespace

void CpuKvStorage::store(int32_t layer, int32_t group, int32_t slot, const float* k_in, const float* v_in) {
    const int64_t n = slot_values(layer);
    switch (layout().type) {
        case KvValueType::F32:
            std::copy(k_in, k_in + n, reinterpret_cast<float*>(at(layer, group, slot, false)));
            std::copy(v_in, v_in + n, reinterpret_cast<float*>(at(layer, group, slot, true)));
            break;
        case KvValueType::F16: {
            uint16_t* kd = page_f16(layer, group, slot / kPageSize, false);
            uint16_t* vd = page_f16(layer, group, slot / kPageSize, true);
            const int32_t lane = slot % kPageSize;
            for (int64_t i = 0; i < n; ++i) {
                kd[transposed_at(i, lane)] = f32_to_fp16(k_in[i]);
                vd[transposed_at(i, lane)] = f32_to_fp16(v_in[i]);
            }
            break;
        }
        case KvValueType::Q8_0: {
            // Q8_0 blocks as llama.cpp's quantised cache: the same format as the
            // activations quantised for Q8_0 weights.
            QuantizedVector q;
            quantize_for_dot(TensorType::Q8_0, k_in, n, q);
            std::copy(q.bytes.begin(), q.bytes.end(), at(layer, group, slot, false));
            quantize_for_dot(TensorType::Q8_0, v_in, n, q);
            std::copy(q.bytes.begin(), q.bytes.end(), at(layer, group, slot, true));
            break;
        }
    }
}

void CpuKvStorage::load(int32_t layer, int32_t group, int32_t slot, bool value, float* out) const {
    const int64_t n = slot_values(layer);
    if (transposed()) {
        const uint16_t* page = page_f16(layer, group, slot / kPageSize, value);
        const int32_t lane = slot % kPageSize;
        for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_f32(page[transposed_at(i, lane)]);
        return;
    }
    dequantize_row(storage_type(layout().type), at(layer, group, slot, value), out, n);
}

void CpuKvStorage::key_norms(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const {
    const int32_t heads = layout().heads_per_group[sz(layer)];
    const int32_t hd = layout().shape.head_dim;
    std::vector<float> key(sz(slot_values(layer)));
    for (size_t i = 0; i < slots.size(); ++i) {
        load_k(layer, group, slots[i], key.data());
        for (int32_t h = 0; h < heads; ++h) {
            double sum = 0;
            for (int32_t d = 0; d < hd; ++d) {
                const double x = key[sz(h) * sz(hd) + sz(d)];
                sum += x * x;
            }
            out[i * sz(heads) + sz(h)] = static_cast<float>(std::sqrt(sum));
        }
    }
}

void CpuKvStorage::key_cosines_to_mean(int32_t layer, int32_t group, const std::vector<int32_t>& slots, float* out) const {
    const auto n_values = sz(slot_values(layer));  // heads of the group × head_dim
    std::vector<float> keys(slots.size() * n_values);  // [slots][heads of the group][head_dim]
    for (size_t i = 0; i < slots.size(); ++i) load_k(layer, group, slots[i], keys.data() + i * n_values);
    cosines_to_mean_key(keys.data(), slots.size(), layout().heads_per_group[sz(layer)], layout().shape.head_dim, out);
}

}  // namespace kvscope
