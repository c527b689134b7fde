#pragma once
// GGUF v3 reader (ggml docs/gguf.md). Parses the header, every metadata value
// (all 13 types, arrays nested to any depth) and the tensor infos of a file
// held in memory (normally a MappedFile), validating every count, length,
// offset and size against the bytes actually there. Tensor data is never
// copied: TensorInfo::data points into the mapping.
//
// Every malformed input throws GgufError whose message names the problem and
// the field/key/tensor and the byte offset, e.g.
//   "GGUF: truncated at offset 24 reading metadata key #0 length"
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/tensor_type.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace kvscope::gguf {

class GgufError : public Error {
public:
    using Error::Error;
};

enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Scalars are widened into one of three fields; arrays
// keep their element type and elements (which may themselves be arrays).
struct Value {
    ValueType type = ValueType::U8;
    uint64_t u = 0;           // U8, U16, U32, U64, BOOL
    int64_t i = 0;            // I8, I16, I32, I64
    double f = 0;             // F32, F64
    std::string s;            // STRING
    ValueType array_type = ValueType::U8;  // ARRAY: element type
    std::vector<Value> array;              // ARRAY: elements

    bool is_integer() const;
    bool is_float() const { return type == ValueType::F32 || type == ValueType::F64; }
};

struct TensorInfo {
    std::string name;
    std::vector<uint64_t> dims;  // ggml order: dims[0] is the contiguous dimension (ne[0])
    TensorType type = TensorType::F32;
    uint64_t offset = 0;         // relative to the data section
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;  // into the file's bytes; valid while the GgufFile lives

    uint64_t rows() const;        // product of dims[1..]
    uint64_t row_elements() const { return dims.empty() ? 0 : dims[0]; }
};

class ByteReader;  // gguf/byte_reader.h

class GgufFile {
public:
    // Maps and parses a file. Throws kvscope::Error if it cannot be opened,
    // GgufError if it is malformed.
    static std::unique_ptr<GgufFile> open(const std::string& path);
    // Parses bytes the caller keeps alive for the GgufFile's lifetime (tests, fuzzing).
    static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size, std::string source_name = "<memory>");

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }
    size_t file_size() const { return size_; }
    const std::string& source_name() const { return source_name_; }

    // Metadata in file order.
    const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
    const Value* find(std::string_view key) const;

    // Typed access. The required forms throw GgufError naming the key when it
    // is missing or has an incompatible type; integer reads check the range.
    uint32_t get_u32(std::string_view key) const;
    std::optional<uint32_t> find_u32(std::string_view key) const;
    float get_f32(std::string_view key) const;
    std::optional<float> find_f32(std::string_view key) const;
    bool get_bool(std::string_view key, bool fallback) const;
    const std::string& get_string(std::string_view key) const;
    std::optional<std::string> find_string(std::string_view key) const;
    // Array accessors check the element type and return copies.
    std::vector<std::string> get_string_array(std::string_view key) const;
    std::vector<float> get_f32_array(std::string_view key) const;
    std::vector<int32_t> get_i32_array(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;
    // Throws GgufError "tensor 'x' is missing" when absent.
    const TensorInfo& tensor(std::string_view name) const;

private:
    GgufFile() = default;
    void parse_all();

    std::unique_ptr<MappedFile> mapping_;
    const uint8_t* bytes_ = nullptr;
    size_t size_ = 0;
    std::string source_name_;
    uint32_t version_ = 0;
    uint32_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::vector<TensorInfo> tensors_;
    // Name -> index into metadata_ / tensors_ (also how duplicates are caught).
    std::map<std::string, size_t, std::less<>> key_index_;
    std::map<std::string, size_t, std::less<>> tensor_index_;

    void parse_metadata(ByteReader& r);
    void parse_alignment();
    void parse_tensor_infos(ByteReader& r);
    void locate_tensor_data();
    [[noreturn]] void fail(const std::string& message) const;
};

}  // namespace kvscope::gguf
