// kvscope-model-tool: GGUF files for the GPU checks, written by the project's
// own GGUF writer (tests/support/gguf_writer.h).
//   cut IN.gguf OUT.gguf LAYERS      the first LAYERS blocks of a real model, every
//                                    other tensor and all metadata as they are
//                                    (block_count set to LAYERS): small enough to
//                                    travel to a GPU machine
//   widen IN.gguf OUT.gguf LAYERS    a model of LAYERS blocks, each a copy of IN's
//                                    block 0 (the full shape for speed runs, made
//                                    on the GPU machine from a cut model)
//   tiny NAME OUT.gguf               a tiny random-weight model of a family without a
//                                    small real GGUF (tests/support/tiny_families.h:
//                                    qwen2-f32, llama3-q8_0, ...), for llama.cpp to run;
//                                    prints its size and FNV-1a hash
// Exit codes: 0 ok, 1 runtime error, 2 usage error; errors are one line on stderr.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "gguf/gguf_file.h"
#include "support/gguf_writer.h"
#include "support/tiny_families.h"

namespace {

using namespace kvscope;
using test::GgufValue;

GgufValue encode(const gguf::Value& v) {
    using gguf::ValueType;
    switch (v.type) {
        case ValueType::U8: return GgufValue::u8(static_cast<uint8_t>(v.u));
        case ValueType::I8: return GgufValue::i8(static_cast<int8_t>(v.i));
        case ValueType::U16: return GgufValue::u16(static_cast<uint16_t>(v.u));
        case ValueType::I16: return GgufValue::i16(static_cast<int16_t>(v.i));
        case ValueType::U32: return GgufValue::u32(static_cast<uint32_t>(v.u));
        case ValueType::I32: return GgufValue::i32(static_cast<int32_t>(v.i));
        case ValueType::U64: return GgufValue::u64(v.u);
        case ValueType::I64: return GgufValue::i64(v.i);
        case ValueType::F32: return GgufValue::f32(static_cast<float>(v.f));
        case ValueType::F64: return GgufValue::f64(v.f);
        case ValueType::BOOL: return GgufValue::boolean(v.u != 0);
        case ValueType::STRING: return GgufValue::string(v.s);
        case ValueType::ARRAY: {
            std::vector<GgufValue> elements;
            elements.reserve(v.array.size());
            for (const gguf::Value& e : v.array) elements.push_back(encode(e));
            return GgufValue::array(v.array_type, elements);
        }
    }
    throw std::runtime_error("unknown metadata type");
}

// "blk.12.attn_q.weight" -> 12; -1 for tensors outside the blocks.
int block_of(const std::string& name) {
    if (name.rfind("blk.", 0) != 0) return -1;
    return std::atoi(name.c_str() + 4);
}

int run(const std::string& mode, const std::string& in, const std::string& out, int layers) {
    const auto file = gguf::GgufFile::open(in);
    const gguf::Value* arch = file->find("general.architecture");
    if (arch == nullptr) throw std::runtime_error(in + " has no general.architecture");
    const std::string block_count = arch->s + ".block_count";
    test::GgufWriter w;
    for (const auto& [key, value] : file->metadata()) {
        if (key == block_count) w.add_u32(key, static_cast<uint32_t>(layers));
        else if (key != "general.alignment") w.add(key, encode(value));
    }
    for (const gguf::TensorInfo& t : file->tensors()) {
        const int b = block_of(t.name);
        const std::vector<uint8_t> bytes(t.data, t.data + t.n_bytes);
        if (b < 0) {
            w.add_tensor_raw(t.name, t.dims, static_cast<uint32_t>(t.type), bytes);
        } else if (mode == "cut" && b < layers) {
            w.add_tensor_raw(t.name, t.dims, static_cast<uint32_t>(t.type), bytes);
        } else if (mode == "widen" && b == 0) {
            const std::string rest = t.name.substr(t.name.find('.', 4));  // ".attn_q.weight"
            for (int l = 0; l < layers; ++l)
                w.add_tensor_raw("blk." + std::to_string(l) + rest, t.dims, static_cast<uint32_t>(t.type), bytes);
        }
    }
    w.write_file(out);
    std::printf("%s: %d blocks written to %s\n", mode.c_str(), layers, out.c_str());
    return 0;
}

int write_tiny(const std::string& name, const std::string& out) {
    const test::TinyModel tm = test::build_tiny_model(test::tiny_family_options(name));
    std::FILE* f = std::fopen(out.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot write " + out);
    const bool ok = std::fwrite(tm.bytes.data(), 1, tm.bytes.size(), f) == tm.bytes.size();
    if (std::fclose(f) != 0 || !ok) throw std::runtime_error("cannot write " + out);
    std::printf("tiny %s: %zu bytes, fnv1a64 %016llx, written to %s\n", name.c_str(), tm.bytes.size(),
                static_cast<unsigned long long>(test::fnv1a64(tm.bytes)), out.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "tiny") {
        try {
            return write_tiny(argv[2], argv[3]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "kvscope-model-tool: %s\n", e.what());
            return 1;
        }
    }
    if (argc != 5 || (std::string(argv[1]) != "cut" && std::string(argv[1]) != "widen")) {
        std::fprintf(stderr, "usage: kvscope-model-tool cut|widen IN.gguf OUT.gguf LAYERS\n"
                             "       kvscope-model-tool tiny NAME OUT.gguf   (NAME: qwen2-f32, qwen2-f16, qwen2-q8_0, "
                             "qwen3-f32, qwen3-f16, qwen3-q8_0, llama3-f32, llama3-f16, llama3-q8_0, phi3-f32, phi3-f16, "
                             "phi3-q8_0)\n");
        return 2;
    }
    const int layers = std::atoi(argv[4]);
    if (layers < 1 || layers > 1024) {
        std::fprintf(stderr, "kvscope-model-tool: LAYERS must be between 1 and 1024, got '%s'\n", argv[4]);
        return 2;
    }
    try {
        return run(argv[1], argv[2], argv[3], layers);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kvscope-model-tool: %s\n", e.what());
        return 1;
    }
}
