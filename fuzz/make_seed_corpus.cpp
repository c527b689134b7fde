// Writes the GGUF fuzzing seeds (a few tiny valid and broken files) into the
// folder given as argv[1]. The output is committed as fuzz/corpus/gguf.
#include <cstdio>
#include <string>

#include "support/gguf_writer.h"

using kvscope::TensorType;
using kvscope::test::GgufValue;
using kvscope::test::GgufWriter;
using kvscope::gguf::ValueType;

namespace {

GgufWriter tiny_llama() {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_u32("llama.block_count", 1);
    w.add_u32("llama.embedding_length", 32);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "<|im_end|>"});
    w.add_i32_array("tokenizer.ggml.token_type", {1, 1, 3});
    w.add_string_array("tokenizer.ggml.merges", {"a b"});
    w.add_bool("tokenizer.ggml.add_bos_token", false);
    w.add_tensor("token_embd.weight", {32, 3}, TensorType::Q8_0);
    w.add_tensor("blk.0.attn_k.weight", {32, 2}, TensorType::Q4_1);
    w.add_tensor("output_norm.weight", {32}, TensorType::F32);
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    int n = 0;
    auto emit = [&](const char* name, GgufWriter w) {
        w.write_file(dir + "/" + name + ".gguf");
        ++n;
    };

    emit("empty_v3", GgufWriter{});
    emit("tiny_llama", tiny_llama());

    GgufWriter all;
    all.add_u8("u8", 1).add_i8("i8", -1).add_u16("u16", 2).add_i16("i16", -2).add_u32("u32", 3).add_i32("i32", -3);
    all.add_f32("f32", 0.5f).add_bool("bool", true).add_string("str", "s").add_u64("u64", 4).add_i64("i64", -4);
    all.add_f64("f64", 0.25);
    all.add("nested", GgufValue::array(ValueType::ARRAY, {GgufValue::array_u32({1, 2}), GgufValue::array_u32({})}));
    all.add_f32_array("f32s", {1, 2});
    emit("all_value_types", all);

    GgufWriter aligned;
    aligned.set_alignment(64);
    aligned.add_tensor("a", {4}, TensorType::F16);
    aligned.add_tensor("b", {256}, TensorType::Q4_K);
    emit("alignment_64", aligned);

    GgufWriter v2 = tiny_llama();
    v2.broken.version = 2;
    emit("version_2", v2);

    GgufWriter truncated = tiny_llama();
    truncated.broken.truncate_at = 200;
    emit("truncated", truncated);

    GgufWriter lying = tiny_llama();
    lying.broken.kv_count = 1000;
    emit("lying_kv_count", lying);

    GgufWriter outside;
    outside.add_tensor("x", {8}, TensorType::F32);
    outside.set_tensor_offset("x", 4096);
    emit("tensor_outside", outside);

    std::printf("wrote %d seeds to %s\n", n, dir.c_str());
    return 0;
}
