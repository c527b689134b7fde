#include "backend/cpu/cpu_kv_storage.h"

#include <algorithm>
#include <cmath>
#include <string>

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
        streams_.resize(streams_.size() + sz(layout.groups(l)));
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
    const size_t pages = sz((n_slots + kPageSize - 1) / kPageSize);
    const size_t page_bytes = sz(kPageSize) * slot_bytes(layer);
    while (s.pages.size() < pages) {
        Page p;
        // Zeroed: a slot's bytes are always a valid value, even before it is written.
        p.k = std::make_unique<uint8_t[]>(page_bytes);
        p.v = std::make_unique<uint8_t[]>(page_bytes);
        s.pages.push_back(std::move(p));
    }
}

size_t CpuKvStorage::allocated_bytes() const {
    size_t total = 0;
    for (int32_t l = 0; l < layout().shape.n_layer; ++l)
        for (int32_t g = 0; g < layout().groups(l); ++g)
            total += streams_[sz(first_stream_[sz(l)] + g)].pages.size() * 2 * sz(kPageSize) * slot_bytes(l);
    return total;
}

uint8_t* CpuKvStorage::at(int32_t layer, int32_t group, int32_t slot, bool value) const {
    const Stream& s = streams_[sz(first_stream_[sz(layer)] + group)];
    const Page& p = s.pages[sz(slot / kPageSize)];
    return (value ? p.v : p.k).get() + sz(slot % kPageSize) * slot_bytes(layer);
}

void CpuKvStorage::store(int32_t layer, int32_t group, int32_t slot, const float* k_in, const float* v_in) {
    const int64_t n = slot_values(layer);
    switch (layout().type) {
        case KvValueType::F32:
            std::copy(k_in, k_in + n, reinterpret_cast<float*>(k(layer, group, slot)));
            std::copy(v_in, v_in + n, reinterpret_cast<float*>(v(layer, group, slot)));
            break;
        case KvValueType::F16: {
            auto* kd = reinterpret_cast<uint16_t*>(k(layer, group, slot));
            auto* vd = reinterpret_cast<uint16_t*>(v(layer, group, slot));
            for (int64_t i = 0; i < n; ++i) {
                kd[i] = f32_to_fp16(k_in[i]);
                vd[i] = f32_to_fp16(v_in[i]);
            }
            break;
        }
        case KvValueType::Q8_0: {
            // Q8_0 blocks as llama.cpp's quantised cache: the same format as the
            // activations quantised for Q8_0 weights.
            QuantizedVector q;
            quantize_for_dot(TensorType::Q8_0, k_in, n, q);
            std::copy(q.bytes.begin(), q.bytes.end(), k(layer, group, slot));
            quantize_for_dot(TensorType::Q8_0, v_in, n, q);
            std::copy(q.bytes.begin(), q.bytes.end(), v(layer, group, slot));
            break;
        }
    }
}

void CpuKvStorage::load_k(int32_t layer, int32_t group, int32_t slot, float* out) const {
    dequantize_row(storage_type(layout().type), k(layer, group, slot), out, slot_values(layer));
}

void CpuKvStorage::load_v(int32_t layer, int32_t group, int32_t slot, float* out) const {
    dequantize_row(storage_type(layout().type), v(layer, group, slot), out, slot_values(layer));
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

}  // namespace kvscope
