// libFuzzer entry for the GGUF reader: any input must either parse or throw
// GgufError; every value and every tensor byte range of a parsed file is
// touched so that the sanitizers see any bad pointer or count.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "gguf/gguf_file.h"

namespace {

using kvscope::gguf::GgufError;
using kvscope::gguf::GgufFile;
using kvscope::gguf::Value;
using kvscope::gguf::ValueType;

uint64_t touch(const Value& v) {
    uint64_t h = static_cast<uint64_t>(v.type) + v.u + static_cast<uint64_t>(v.i) + (v.f != 0) + v.s.size();
    for (char c : v.s) h += static_cast<unsigned char>(c);
    for (const Value& e : v.array) h += touch(e);
    return h;
}

// The typed getters on every key; wrong types and ranges are GgufErrors.
template <typename F>
void try_get(F&& f) {
    try {
        f();
    } catch (const GgufError&) {
    }
}

volatile uint64_t g_sink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::unique_ptr<GgufFile> f;
    try {
        f = GgufFile::parse(data, size, "fuzz");
    } catch (const GgufError&) {
        return 0;
    }
    uint64_t h = f->version() + f->alignment() + f->data_offset();
    for (const auto& kv : f->metadata()) {
        const std::string& key = kv.first;  // not a structured binding: clang 14 cannot capture those
        h += key.size() + touch(kv.second);
        if (f->find(key) == nullptr) __builtin_trap();
        try_get([&] { h += f->get_u32(key); });
        try_get([&] { h += static_cast<uint64_t>(f->get_f32(key) != 0); });
        try_get([&] { h += f->get_bool(key, false); });
        try_get([&] { h += f->get_string(key).size(); });
        try_get([&] { h += f->get_string_array(key).size(); });
        try_get([&] { h += f->get_f32_array(key).size(); });
        try_get([&] { h += f->get_i32_array(key).size(); });
    }
    for (const auto& t : f->tensors()) {
        if (&f->tensor(t.name) != &t) __builtin_trap();
        if (t.n_bytes == 0 || t.data == nullptr) __builtin_trap();
        if (t.data < data || t.data + t.n_bytes > data + size) __builtin_trap();
        h += t.data[0] + t.data[t.n_bytes - 1] + t.rows() + t.row_elements() + t.n_elements;
    }
    g_sink = h;
    return 0;
}
