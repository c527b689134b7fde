#pragma once
// A small GGUF writer for tests: builds a file in memory, valid by default,
// with knobs to break it in controlled ways.
//
//   GgufWriter w;
//   w.add_string("general.architecture", "llama");
//   w.add_u32("llama.block_count", 2);
//   w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
//   w.add_tensor("token_embd.weight", {4, 2}, TensorType::F32);   // zero-filled
//   w.add_tensor_f32("output_norm.weight", {4}, {1, 2, 3, 4});
//   std::vector<uint8_t> bytes = w.build();   // or w.write_file(path)
//
// Nested arrays: w.add("k", GgufValue::array(ValueType::ARRAY,
//                         {GgufValue::array_u32({1, 2}), GgufValue::array_u32({3})}));
// Breakage: w.broken.magic = "GGUX"; w.broken.truncate_at = 30; w.set_tensor_offset("x", 7); ...
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "quant/tensor_type.h"

namespace kvscope::test {

using gguf::ValueType;

// Little-endian byte sink.
class ByteSink {
public:
    template <typename T>
    void put(T v) {
        uint8_t b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        bytes.insert(bytes.end(), b, b + sizeof(T));
    }
    void put_bytes(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        bytes.insert(bytes.end(), b, b + n);
    }
    void put_string(std::string_view s) {
        put<uint64_t>(s.size());
        put_bytes(s.data(), s.size());
    }
    std::vector<uint8_t> bytes;
};

// One encoded metadata value: its type id and the bytes that follow the type
// field (for arrays: element type, count, elements).
struct GgufValue {
    uint32_t type = 0;
    std::vector<uint8_t> bytes;

    template <typename T>
    static GgufValue scalar(ValueType t, T v) {
        ByteSink s;
        s.put<T>(v);
        return {static_cast<uint32_t>(t), std::move(s.bytes)};
    }
    static GgufValue u8(uint8_t v) { return scalar(ValueType::U8, v); }
    static GgufValue i8(int8_t v) { return scalar(ValueType::I8, v); }
    static GgufValue u16(uint16_t v) { return scalar(ValueType::U16, v); }
    static GgufValue i16(int16_t v) { return scalar(ValueType::I16, v); }
    static GgufValue u32(uint32_t v) { return scalar(ValueType::U32, v); }
    static GgufValue i32(int32_t v) { return scalar(ValueType::I32, v); }
    static GgufValue u64(uint64_t v) { return scalar(ValueType::U64, v); }
    static GgufValue i64(int64_t v) { return scalar(ValueType::I64, v); }
    static GgufValue f32(float v) { return scalar(ValueType::F32, v); }
    static GgufValue f64(double v) { return scalar(ValueType::F64, v); }
    static GgufValue boolean(bool v) { return scalar(ValueType::BOOL, static_cast<uint8_t>(v ? 1 : 0)); }
    static GgufValue string(std::string_view v) {
        ByteSink s;
        s.put_string(v);
        return {static_cast<uint32_t>(ValueType::STRING), std::move(s.bytes)};
    }
    // Any type id with any payload (unknown types, bad bools, ...).
    static GgufValue raw(uint32_t type, std::vector<uint8_t> payload) { return {type, std::move(payload)}; }

    // An array of `elements`, which must all have type `elem`. `claimed_count`
    // overrides the count written (to lie about it).
    static GgufValue array(ValueType elem, const std::vector<GgufValue>& elements,
                           std::optional<uint64_t> claimed_count = std::nullopt) {
        return array_raw(static_cast<uint32_t>(elem), elements, claimed_count);
    }
    static GgufValue array_raw(uint32_t elem, const std::vector<GgufValue>& elements,
                               std::optional<uint64_t> claimed_count = std::nullopt) {
        ByteSink s;
        s.put<uint32_t>(elem);
        s.put<uint64_t>(claimed_count.value_or(elements.size()));
        for (const GgufValue& e : elements) {
            if (e.type != elem) throw std::logic_error("GgufValue::array: element type differs from the array's");
            s.put_bytes(e.bytes.data(), e.bytes.size());
        }
        return {static_cast<uint32_t>(ValueType::ARRAY), std::move(s.bytes)};
    }
    template <typename T, typename Make>
    static GgufValue array_of(ValueType elem, const std::vector<T>& v, Make make) {
        std::vector<GgufValue> e;
        e.reserve(v.size());
        for (const T& x : v) e.push_back(make(x));
        return array(elem, e);
    }
    static GgufValue array_string(const std::vector<std::string>& v) {
        return array_of(ValueType::STRING, v, [](const std::string& x) { return string(x); });
    }
    static GgufValue array_u32(const std::vector<uint32_t>& v) { return array_of(ValueType::U32, v, u32); }
    static GgufValue array_i32(const std::vector<int32_t>& v) { return array_of(ValueType::I32, v, i32); }
    static GgufValue array_f32(const std::vector<float>& v) { return array_of(ValueType::F32, v, f32); }
};

class GgufWriter {
public:
    // Ways to produce a broken file; all off by default.
    struct Broken {
        std::optional<std::string> magic;               // the first 4 bytes (padded/cut to 4)
        std::optional<uint32_t> version;
        std::optional<uint64_t> tensor_count;           // count written in the header
        std::optional<uint64_t> kv_count;
        std::optional<uint32_t> layout_alignment;       // alignment used to place data, whatever the key says
        std::vector<uint8_t> append;                    // raw bytes added at the very end
        std::optional<size_t> truncate_at;              // cut the file to this many bytes
    };
    Broken broken;

    // --- metadata, in the order added ---
    GgufWriter& add(std::string key, GgufValue v) {
        kvs_.push_back({std::move(key), std::move(v)});
        return *this;
    }
    GgufWriter& add_u8(std::string k, uint8_t v) { return add(std::move(k), GgufValue::u8(v)); }
    GgufWriter& add_i8(std::string k, int8_t v) { return add(std::move(k), GgufValue::i8(v)); }
    GgufWriter& add_u16(std::string k, uint16_t v) { return add(std::move(k), GgufValue::u16(v)); }
    GgufWriter& add_i16(std::string k, int16_t v) { return add(std::move(k), GgufValue::i16(v)); }
    GgufWriter& add_u32(std::string k, uint32_t v) { return add(std::move(k), GgufValue::u32(v)); }
    GgufWriter& add_i32(std::string k, int32_t v) { return add(std::move(k), GgufValue::i32(v)); }
    GgufWriter& add_u64(std::string k, uint64_t v) { return add(std::move(k), GgufValue::u64(v)); }
    GgufWriter& add_i64(std::string k, int64_t v) { return add(std::move(k), GgufValue::i64(v)); }
    GgufWriter& add_f32(std::string k, float v) { return add(std::move(k), GgufValue::f32(v)); }
    GgufWriter& add_f64(std::string k, double v) { return add(std::move(k), GgufValue::f64(v)); }
    GgufWriter& add_bool(std::string k, bool v) { return add(std::move(k), GgufValue::boolean(v)); }
    GgufWriter& add_string(std::string k, std::string_view v) { return add(std::move(k), GgufValue::string(v)); }
    GgufWriter& add_string_array(std::string k, const std::vector<std::string>& v) {
        return add(std::move(k), GgufValue::array_string(v));
    }
    GgufWriter& add_u32_array(std::string k, const std::vector<uint32_t>& v) {
        return add(std::move(k), GgufValue::array_u32(v));
    }
    GgufWriter& add_i32_array(std::string k, const std::vector<int32_t>& v) {
        return add(std::move(k), GgufValue::array_i32(v));
    }
    GgufWriter& add_f32_array(std::string k, const std::vector<float>& v) {
        return add(std::move(k), GgufValue::array_f32(v));
    }

    // Writes `general.alignment` and lays the data out with it.
    GgufWriter& set_alignment(uint32_t a) {
        alignment_ = a;
        return add_u32("general.alignment", a);
    }

    // --- tensors, placed in the order added, each at an aligned offset ---
    // `data` is written as given (its size decides the layout); without it the
    // tensor gets zeros of the size its type and dims imply.
    GgufWriter& add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type,
                           std::optional<std::vector<uint8_t>> data = std::nullopt) {
        std::vector<uint8_t> bytes = data ? std::move(*data) : std::vector<uint8_t>(tensor_bytes(dims, type), 0);
        return add_tensor_raw(std::move(name), std::move(dims), static_cast<uint32_t>(type), std::move(bytes));
    }
    GgufWriter& add_tensor_f32(std::string name, std::vector<uint64_t> dims, const std::vector<float>& values) {
        std::vector<uint8_t> bytes(values.size() * sizeof(float));
        if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
        return add_tensor(std::move(name), std::move(dims), TensorType::F32, std::move(bytes));
    }
    // Any type id, any dims (even invalid ones), any data.
    GgufWriter& add_tensor_raw(std::string name, std::vector<uint64_t> dims, uint32_t type_id,
                               std::vector<uint8_t> data) {
        tensors_.push_back({std::move(name), std::move(dims), type_id, std::move(data), std::nullopt});
        return *this;
    }
    // Writes `offset` in the tensor's info instead of the computed one (data stays where it was).
    GgufWriter& set_tensor_offset(std::string_view name, uint64_t offset) {
        for (Tensor& t : tensors_)
            if (t.name == name) t.offset_override = offset;
        return *this;
    }

    // Bytes a tensor of this type and shape takes (dims must be valid).
    static size_t tensor_bytes(const std::vector<uint64_t>& dims, TensorType type) {
        const TensorTypeInfo& info = tensor_type_info(type);
        uint64_t n = 1;
        for (uint64_t d : dims) n *= d;
        return static_cast<size_t>(n / info.block_elems * info.block_bytes);
    }

    // Offsets in the built file, for tests that aim at a field.
    struct Layout {
        size_t metadata_begin = 24;   // first key
        std::vector<size_t> kv_begin; // each metadata entry
        size_t tensor_infos_begin = 0;
        std::vector<size_t> tensor_info_begin;
        size_t data_begin = 0;        // start of the data section
        size_t end = 0;               // size before breakage
    };
    const Layout& layout() const { return layout_; }

    std::vector<uint8_t> build() {
        layout_ = Layout{};
        ByteSink s;
        std::string magic = broken.magic.value_or("GGUF");
        magic.resize(4, '\0');
        s.put_bytes(magic.data(), 4);
        s.put<uint32_t>(broken.version.value_or(3));
        s.put<uint64_t>(broken.tensor_count.value_or(tensors_.size()));
        s.put<uint64_t>(broken.kv_count.value_or(kvs_.size()));

        for (const Kv& kv : kvs_) {
            layout_.kv_begin.push_back(s.bytes.size());
            s.put_string(kv.key);
            s.put<uint32_t>(kv.value.type);
            s.put_bytes(kv.value.bytes.data(), kv.value.bytes.size());
        }

        const uint64_t align = broken.layout_alignment.value_or(alignment_);
        layout_.tensor_infos_begin = s.bytes.size();
        std::vector<uint64_t> offsets;
        uint64_t next = 0;
        for (const Tensor& t : tensors_) {
            offsets.push_back(next);
            next = pad(next + t.data.size(), align);
        }
        for (size_t i = 0; i < tensors_.size(); ++i) {
            const Tensor& t = tensors_[i];
            layout_.tensor_info_begin.push_back(s.bytes.size());
            s.put_string(t.name);
            s.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
            for (uint64_t d : t.dims) s.put<uint64_t>(d);
            s.put<uint32_t>(t.type_id);
            s.put<uint64_t>(t.offset_override.value_or(offsets[i]));
        }

        if (!tensors_.empty()) {
            s.bytes.resize(pad(s.bytes.size(), align), 0);
            layout_.data_begin = s.bytes.size();
            for (size_t i = 0; i < tensors_.size(); ++i) {
                s.bytes.resize(layout_.data_begin + offsets[i], 0);
                s.put_bytes(tensors_[i].data.data(), tensors_[i].data.size());
            }
        } else {
            layout_.data_begin = pad(s.bytes.size(), align);
        }
        layout_.end = s.bytes.size();

        s.bytes.insert(s.bytes.end(), broken.append.begin(), broken.append.end());
        if (broken.truncate_at && *broken.truncate_at < s.bytes.size()) s.bytes.resize(*broken.truncate_at);
        return std::move(s.bytes);
    }

    void write_file(const std::string& path) {
        const std::vector<uint8_t> b = build();
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        if (!f) throw std::runtime_error("GgufWriter: cannot write " + path);
    }

private:
    struct Kv {
        std::string key;
        GgufValue value;
    };
    struct Tensor {
        std::string name;
        std::vector<uint64_t> dims;
        uint32_t type_id;
        std::vector<uint8_t> data;
        std::optional<uint64_t> offset_override;
    };
    static uint64_t pad(uint64_t v, uint64_t a) { return a == 0 ? v : (v + a - 1) / a * a; }

    std::vector<Kv> kvs_;
    std::vector<Tensor> tensors_;
    uint32_t alignment_ = 32;
    Layout layout_;
};

}  // namespace kvscope::test
