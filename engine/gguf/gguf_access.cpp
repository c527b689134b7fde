// Lookups and typed getters of a parsed GgufFile.
#include <limits>

#include "gguf/byte_reader.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_text.h"

namespace kvscope::gguf {

const char* value_type_name(ValueType t) {
    switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
    }
    return "unknown";
}

bool Value::is_integer() const {
    switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
        return true;
    default:
        return false;
    }
}

uint64_t TensorInfo::rows() const {
    if (dims.empty()) return 0;
    uint64_t n = 1;
    for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
    return n;
}

namespace {

bool is_unsigned(ValueType t) {
    return t == ValueType::U8 || t == ValueType::U16 || t == ValueType::U32 || t == ValueType::U64;
}

// "u32" or "array of string".
std::string type_text(const Value& v) {
    if (v.type != ValueType::ARRAY) return value_type_name(v.type);
    return std::string("array of ") + value_type_name(v.array_type);
}

[[noreturn]] void wrong_type(std::string_view source, std::string_view key, const Value& v, const char* expected) {
    fail(source, "key " + quoted(key) + " has type " + type_text(v) + ", expected " + expected);
}

// An integer value as T, range-checked; `what` names it for the message.
template <typename T>
T integer_as(std::string_view source, const Value& v, const std::string& what) {
    const bool fits = is_unsigned(v.type)
                          ? v.u <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                          : v.i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                                (v.i < 0 || static_cast<uint64_t>(v.i) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    if (!fits)
        fail(source, what + " = " + (is_unsigned(v.type) ? std::to_string(v.u) : std::to_string(v.i)) +
                         " is out of range for " + (std::is_signed_v<T> ? "i" : "u") +
                         std::to_string(sizeof(T) * 8));
    return is_unsigned(v.type) ? static_cast<T>(v.u) : static_cast<T>(v.i);
}

// A value of an array: checks the element type with `ok` and converts each.
template <typename T, typename Ok, typename Convert>
std::vector<T> array_of(std::string_view source, std::string_view key, const Value* v, const char* expected, Ok ok,
                        Convert convert) {
    if (v == nullptr) fail(source, "required key " + quoted(key) + " is missing");
    if (v->type != ValueType::ARRAY || !ok(v->array_type)) wrong_type(source, key, *v, expected);
    std::vector<T> out;
    out.reserve(v->array.size());
    for (size_t i = 0; i < v->array.size(); ++i) out.push_back(convert(v->array[i], i));
    return out;
}

}  // namespace

const Value* GgufFile::find(std::string_view key) const {
    const auto it = key_index_.find(key);
    return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

std::optional<uint32_t> GgufFile::find_u32(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_integer()) wrong_type(source_name_, key, *v, "an integer");
    return integer_as<uint32_t>(source_name_, *v, "key " + quoted(key));
}

uint32_t GgufFile::get_u32(std::string_view key) const {
    const auto v = find_u32(key);
    if (!v) fail("required key " + quoted(key) + " is missing");
    return *v;
}

std::optional<float> GgufFile::find_f32(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_float()) wrong_type(source_name_, key, *v, "f32 or f64");
    return static_cast<float>(v->f);
}

float GgufFile::get_f32(std::string_view key) const {
    const auto v = find_f32(key);
    if (!v) fail("required key " + quoted(key) + " is missing");
    return *v;
}

bool GgufFile::get_bool(std::string_view key, bool fallback) const {
    const Value* v = find(key);
    if (v == nullptr) return fallback;
    if (v->type != ValueType::BOOL) wrong_type(source_name_, key, *v, "bool");
    return v->u != 0;
}

const std::string& GgufFile::get_string(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) fail("required key " + quoted(key) + " is missing");
    if (v->type != ValueType::STRING) wrong_type(source_name_, key, *v, "string");
    return v->s;
}

std::optional<std::string> GgufFile::find_string(std::string_view key) const {
    if (find(key) == nullptr) return std::nullopt;
    return get_string(key);
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
    return array_of<std::string>(
        source_name_, key, find(key), "array of string", [](ValueType t) { return t == ValueType::STRING; },
        [](const Value& e, size_t) { return e.s; });
}

std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
    return array_of<float>(
        source_name_, key, find(key), "array of f32",
        [](ValueType t) { return t == ValueType::F32 || t == ValueType::F64; },
        [](const Value& e, size_t) { return static_cast<float>(e.f); });
}

// Any integer element type is accepted as long as every element fits in i32.
std::vector<int32_t> GgufFile::get_i32_array(std::string_view key) const {
    return array_of<int32_t>(
        source_name_, key, find(key), "array of i32",
        [](ValueType t) {
            Value probe;
            probe.type = t;
            return probe.is_integer();
        },
        [&](const Value& e, size_t i) {
            return integer_as<int32_t>(source_name_, e, "key " + quoted(key) + " element " + std::to_string(i));
        });
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    const auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& GgufFile::tensor(std::string_view name) const {
    const TensorInfo* t = find_tensor(name);
    if (t == nullptr) fail("tensor " + quoted(name) + " is missing");
    return *t;
}

}  // namespace kvscope::gguf
