// GGUF reader: round trips through tests/support/gguf_writer.h, one test per
// kind of malformed file, and the real files when they are present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "support/gguf_writer.h"
#include "support/model_path.h"

namespace kvscope::gguf {
namespace {

using test::GgufValue;
using test::GgufWriter;

// The bytes in a heap block of exactly their size, so that AddressSanitizer
// catches any read past the end (a vector's spare capacity would hide it).
struct ExactBuffer {
    explicit ExactBuffer(const std::vector<uint8_t>& b) : size(b.size()), data(new uint8_t[b.size() ? b.size() : 1]) {
        if (!b.empty()) std::memcpy(data.get(), b.data(), b.size());
    }
    size_t size;
    std::unique_ptr<uint8_t[]> data;
};

// Parses, keeping the bytes alive alongside the GgufFile.
struct Parsed {
    std::shared_ptr<ExactBuffer> bytes;
    std::unique_ptr<GgufFile> file;
    const GgufFile* operator->() const { return file.get(); }
};

Parsed parse(const std::vector<uint8_t>& b) {
    auto buf = std::make_shared<ExactBuffer>(b);
    auto f = GgufFile::parse(buf->data.get(), buf->size);
    return {buf, std::move(f)};
}

Parsed parse(GgufWriter& w) { return parse(w.build()); }

// The GgufError message parsing `b` produces ("" and a test failure if none).
std::string parse_error(const std::vector<uint8_t>& b) {
    try {
        parse(b);
    } catch (const GgufError& e) {
        return e.what();
    }
    ADD_FAILURE() << "parsing did not fail";
    return "";
}

// Every message is one line, starts with "GGUF: " and contains `phrase`.
#define EXPECT_GGUF_ERROR(bytes, phrase)                                                         \
    do {                                                                                         \
        const std::string msg_ = parse_error(bytes);                                             \
        EXPECT_NE(msg_.find(phrase), std::string::npos) << "message: " << msg_;                  \
        EXPECT_EQ(msg_.rfind("GGUF: ", 0), 0u) << msg_;                                          \
        EXPECT_EQ(msg_.find('\n'), std::string::npos) << msg_;                                   \
    } while (0)

#define EXPECT_GETTER_ERROR(expr, phrase)                                                        \
    do {                                                                                         \
        try {                                                                                    \
            (void)(expr);                                                                        \
            ADD_FAILURE() << #expr " did not throw";                                             \
        } catch (const GgufError& e) {                                                           \
            EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();        \
        }                                                                                        \
    } while (0)

std::vector<uint8_t> iota_bytes(size_t n) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 1);
    return b;
}

// A small valid file with metadata and two tensors.
GgufWriter small_model() {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_u32("llama.block_count", 2);
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_tensor("token_embd.weight", {32, 2}, TensorType::Q8_0, iota_bytes(68));
    w.add_tensor_f32("output_norm.weight", {3}, {1.0f, 2.0f, 3.0f});
    return w;
}

// ---------- round trips ----------

TEST(GgufReader, HeaderOfEmptyFile) {
    GgufWriter w;
    auto f = parse(w);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), 32u);
    EXPECT_TRUE(f->metadata().empty());
    EXPECT_TRUE(f->tensors().empty());
    EXPECT_EQ(f->file_size(), 24u);
    EXPECT_EQ(f->source_name(), "<memory>");
}

TEST(GgufReader, AcceptsVersion2) {
    GgufWriter w = small_model();
    w.broken.version = 2;
    EXPECT_EQ(parse(w)->version(), 2u);
}

TEST(GgufReader, EveryScalarTypeRoundTrips) {
    GgufWriter w;
    w.add_u8("u8", 200).add_i8("i8", -100).add_u16("u16", 60000).add_i16("i16", -30000);
    w.add_u32("u32", 4000000000u).add_i32("i32", -2000000000).add_f32("f32", 1.5f).add_bool("bool", true);
    w.add_string("string", "h\xc3\xa9llo").add_u64("u64", (uint64_t{1} << 63) + 5);
    w.add_i64("i64", -(int64_t{1} << 62)).add_f64("f64", 3.25).add_string("empty", "");
    auto f = parse(w);
    ASSERT_EQ(f->metadata().size(), 13u);
    const char* order[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "u64", "i64", "f64", "empty"};
    for (size_t i = 0; i < 13; ++i) EXPECT_EQ(f->metadata()[i].first, order[i]);

    EXPECT_EQ(f->find("u8")->type, ValueType::U8);
    EXPECT_EQ(f->find("u8")->u, 200u);
    EXPECT_EQ(f->find("i8")->type, ValueType::I8);
    EXPECT_EQ(f->find("i8")->i, -100);
    EXPECT_EQ(f->find("u16")->u, 60000u);
    EXPECT_EQ(f->find("i16")->i, -30000);
    EXPECT_EQ(f->find("u32")->u, 4000000000u);
    EXPECT_EQ(f->find("i32")->i, -2000000000);
    EXPECT_EQ(f->find("f32")->type, ValueType::F32);
    EXPECT_EQ(f->find("f32")->f, 1.5);
    EXPECT_EQ(f->find("bool")->type, ValueType::BOOL);
    EXPECT_EQ(f->find("bool")->u, 1u);
    EXPECT_EQ(f->find("string")->s, "h\xc3\xa9llo");
    EXPECT_EQ(f->find("u64")->u, (uint64_t{1} << 63) + 5);
    EXPECT_EQ(f->find("i64")->i, -(int64_t{1} << 62));
    EXPECT_EQ(f->find("f64")->type, ValueType::F64);
    EXPECT_EQ(f->find("f64")->f, 3.25);
    EXPECT_EQ(f->find("empty")->s, "");
    EXPECT_EQ(f->find("absent"), nullptr);

    for (const char* k : {"u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64"}) EXPECT_TRUE(f->find(k)->is_integer()) << k;
    for (const char* k : {"f32", "f64"}) EXPECT_TRUE(f->find(k)->is_float()) << k;
    for (const char* k : {"bool", "string"}) EXPECT_FALSE(f->find(k)->is_integer() || f->find(k)->is_float()) << k;
}

TEST(GgufReader, ArraysOfEveryTypeRoundTrip) {
    GgufWriter w;
    w.add("u8s", GgufValue::array(ValueType::U8, {GgufValue::u8(1), GgufValue::u8(255)}));
    w.add("i16s", GgufValue::array(ValueType::I16, {GgufValue::i16(-2), GgufValue::i16(3)}));
    w.add("u64s", GgufValue::array(ValueType::U64, {GgufValue::u64(~uint64_t{0})}));
    w.add("f64s", GgufValue::array(ValueType::F64, {GgufValue::f64(0.5), GgufValue::f64(-1e300)}));
    w.add("bools", GgufValue::array(ValueType::BOOL, {GgufValue::boolean(false), GgufValue::boolean(true)}));
    w.add_string_array("strings", {"x", "", "yz"});
    w.add_f32_array("f32s", {1.0f, -2.5f});
    w.add_i32_array("i32s", {-1, 7});
    w.add_u32_array("empty", {});
    auto f = parse(w);

    const Value* u8s = f->find("u8s");
    ASSERT_EQ(u8s->type, ValueType::ARRAY);
    EXPECT_EQ(u8s->array_type, ValueType::U8);
    ASSERT_EQ(u8s->array.size(), 2u);
    EXPECT_EQ(u8s->array[1].u, 255u);
    EXPECT_EQ(f->find("i16s")->array[0].i, -2);
    EXPECT_EQ(f->find("u64s")->array[0].u, ~uint64_t{0});
    EXPECT_EQ(f->find("f64s")->array[1].f, -1e300);
    EXPECT_EQ(f->find("bools")->array[1].u, 1u);
    EXPECT_EQ(f->get_string_array("strings"), (std::vector<std::string>{"x", "", "yz"}));
    EXPECT_EQ(f->get_f32_array("f32s"), (std::vector<float>{1.0f, -2.5f}));
    EXPECT_EQ(f->get_i32_array("i32s"), (std::vector<int32_t>{-1, 7}));
    EXPECT_EQ(f->find("empty")->array_type, ValueType::U32);
    EXPECT_TRUE(f->find("empty")->array.empty());
}

TEST(GgufReader, NestedArraysRoundTrip) {
    // [[1, 2], [], [3]] of u32, and [[["deep"]]] of strings.
    GgufWriter w;
    w.add("nested", GgufValue::array(ValueType::ARRAY, {GgufValue::array_u32({1, 2}), GgufValue::array_u32({}),
                                                        GgufValue::array_u32({3})}));
    w.add("deep", GgufValue::array(ValueType::ARRAY,
                                   {GgufValue::array(ValueType::ARRAY, {GgufValue::array_string({"deep"})})}));
    w.add_u8("after", 9);
    auto f = parse(w);
    const Value* n = f->find("nested");
    ASSERT_EQ(n->array_type, ValueType::ARRAY);
    ASSERT_EQ(n->array.size(), 3u);
    EXPECT_EQ(n->array[0].array_type, ValueType::U32);
    EXPECT_EQ(n->array[0].array.size(), 2u);
    EXPECT_EQ(n->array[0].array[1].u, 2u);
    EXPECT_TRUE(n->array[1].array.empty());
    EXPECT_EQ(n->array[2].array[0].u, 3u);
    EXPECT_EQ(f->find("deep")->array[0].array[0].array[0].s, "deep");
    EXPECT_EQ(f->find("after")->u, 9u);
}

// n levels of arrays; the innermost holds one u8.
GgufValue nested(int levels) {
    GgufValue v = GgufValue::array(ValueType::U8, {GgufValue::u8(1)});
    for (int i = 1; i < levels; ++i) v = GgufValue::array(ValueType::ARRAY, {v});
    return v;
}

TEST(GgufReader, ArraysNestUpTo64Levels) {
    GgufWriter ok;
    ok.add("k", nested(64));
    const Parsed f = parse(ok);
    const Value* v = f->find("k");
    int depth = 1;
    for (; v->array_type == ValueType::ARRAY; v = &v->array[0]) ++depth;
    EXPECT_EQ(depth, 64);

    GgufWriter bad;
    bad.add("k", nested(65));
    EXPECT_GGUF_ERROR(bad.build(), "nested deeper than 64 levels");
    GgufWriter worse;
    worse.add("k", nested(5000));  // must not exhaust the stack
    EXPECT_GGUF_ERROR(worse.build(), "nested deeper than 64 levels");
}

TEST(GgufReader, TypedGetters) {
    GgufWriter w;
    w.add_u8("u8", 7).add_i32("i32", 12).add_u64("u64", 4000000000u).add_u64("big", uint64_t{1} << 33);
    w.add_i32("neg", -1).add_f32("f32", 0.25f).add_f64("f64", 1e-5).add_bool("yes", true);
    w.add_string("name", "llama").add_u32_array("u32s", {1, 2}).add_i64("i64", 5);
    w.add("u8s", GgufValue::array(ValueType::U8, {GgufValue::u8(3), GgufValue::u8(4)}));
    w.add("big_i64s", GgufValue::array(ValueType::I64, {GgufValue::i64(int64_t{1} << 40)}));
    auto f = parse(w);

    EXPECT_EQ(f->get_u32("u8"), 7u);
    EXPECT_EQ(f->get_u32("i32"), 12u);
    EXPECT_EQ(f->get_u32("u64"), 4000000000u);
    EXPECT_EQ(f->get_u32("i64"), 5u);
    EXPECT_EQ(f->find_u32("absent"), std::nullopt);
    EXPECT_EQ(f->find_u32("u8"), 7u);
    EXPECT_EQ(f->get_f32("f32"), 0.25f);
    EXPECT_FLOAT_EQ(f->get_f32("f64"), 1e-5f);
    EXPECT_EQ(f->find_f32("absent"), std::nullopt);
    EXPECT_TRUE(f->get_bool("yes", false));
    EXPECT_TRUE(f->get_bool("absent", true));
    EXPECT_FALSE(f->get_bool("absent", false));
    EXPECT_EQ(f->get_string("name"), "llama");
    EXPECT_EQ(f->find_string("name"), "llama");
    EXPECT_EQ(f->find_string("absent"), std::nullopt);
    EXPECT_EQ(f->get_i32_array("u8s"), (std::vector<int32_t>{3, 4}));

    EXPECT_GETTER_ERROR(f->get_u32("absent"), "GGUF: required key 'absent' is missing");
    EXPECT_GETTER_ERROR(f->get_f32("absent"), "required key 'absent' is missing");
    EXPECT_GETTER_ERROR(f->get_string("absent"), "required key 'absent' is missing");
    EXPECT_GETTER_ERROR(f->get_string_array("absent"), "required key 'absent' is missing");
    EXPECT_GETTER_ERROR(f->get_u32("big"), "key 'big' = 8589934592 is out of range for u32");
    EXPECT_GETTER_ERROR(f->get_u32("neg"), "key 'neg' = -1 is out of range for u32");
    EXPECT_GETTER_ERROR(f->get_u32("name"), "GGUF: key 'name' has type string, expected an integer");
    EXPECT_GETTER_ERROR(f->find_u32("f32"), "key 'f32' has type f32, expected an integer");
    EXPECT_GETTER_ERROR(f->get_f32("u8"), "key 'u8' has type u8, expected f32 or f64");
    EXPECT_GETTER_ERROR(f->get_bool("u8", false), "key 'u8' has type u8, expected bool");
    EXPECT_GETTER_ERROR(f->get_string("u8"), "key 'u8' has type u8, expected string");
    EXPECT_GETTER_ERROR(f->find_string("u32s"), "key 'u32s' has type array of u32, expected string");
    EXPECT_GETTER_ERROR(f->get_string_array("u32s"), "key 'u32s' has type array of u32, expected array of string");
    EXPECT_GETTER_ERROR(f->get_string_array("name"), "key 'name' has type string, expected array of string");
    EXPECT_GETTER_ERROR(f->get_f32_array("u32s"), "expected array of f32");
    EXPECT_GETTER_ERROR(f->get_i32_array("name"), "expected array of i32");
    EXPECT_GETTER_ERROR(f->get_i32_array("big_i64s"), "key 'big_i64s' element 0 = 1099511627776 is out of range for i32");
}

TEST(GgufReader, TensorInfosOffsetsAndData) {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_tensor("a", {32, 3}, TensorType::Q4_1, iota_bytes(60));     // 3 blocks of 20
    w.add_tensor_f32("b", {2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    w.add_tensor("c", {256}, TensorType::Q6_K);                       // 210 bytes
    w.add_tensor("d", {5}, TensorType::F16);
    const std::vector<uint8_t> bytes = w.build();
    auto f = parse(bytes);

    ASSERT_EQ(f->tensors().size(), 4u);
    EXPECT_EQ(f->data_offset() % 32, 0u);
    EXPECT_EQ(f->data_offset(), w.layout().data_begin);
    EXPECT_GE(f->data_offset(), w.layout().tensor_infos_begin);

    const TensorInfo& a = f->tensor("a");
    EXPECT_EQ(a.dims, (std::vector<uint64_t>{32, 3}));
    EXPECT_EQ(a.type, TensorType::Q4_1);
    EXPECT_EQ(a.offset, 0u);
    EXPECT_EQ(a.n_elements, 96u);
    EXPECT_EQ(a.n_bytes, 60u);
    EXPECT_EQ(a.rows(), 3u);
    EXPECT_EQ(a.row_elements(), 32u);
    EXPECT_EQ(a.data, f.bytes->data.get() + f->data_offset());
    EXPECT_EQ(std::memcmp(a.data, iota_bytes(60).data(), 60), 0);

    const TensorInfo& b = f->tensor("b");
    EXPECT_EQ(b.offset, 64u);  // 60 rounded up to 32
    EXPECT_EQ(b.n_elements, 8u);
    EXPECT_EQ(b.n_bytes, 32u);
    EXPECT_EQ(b.rows(), 4u);
    float values[8];
    std::memcpy(values, b.data, sizeof values);
    EXPECT_EQ(values[7], 8.0f);

    EXPECT_EQ(f->tensor("c").offset, 96u);
    EXPECT_EQ(f->tensor("c").n_bytes, 210u);
    EXPECT_EQ(f->tensor("d").offset, 320u);
    EXPECT_EQ(f->tensor("d").n_bytes, 10u);
    EXPECT_EQ(f->tensor("d").rows(), 1u);
    EXPECT_EQ(f->tensors()[2].name, "c");  // file order
    for (const TensorInfo& t : f->tensors()) EXPECT_EQ(t.offset % f->alignment(), 0u) << t.name;

    EXPECT_EQ(f->find_tensor("zzz"), nullptr);
    EXPECT_GETTER_ERROR(f->tensor("zzz"), "GGUF: tensor 'zzz' is missing");
}

TEST(GgufReader, CustomAlignment) {
    for (uint32_t align : {1u, 8u, 64u, 4096u}) {
        GgufWriter w;
        w.set_alignment(align);
        w.add_tensor("x", {3}, TensorType::F32);
        w.add_tensor("y", {3}, TensorType::F32);
        auto f = parse(w);
        EXPECT_EQ(f->alignment(), align);
        EXPECT_EQ(f->data_offset() % align, 0u);
        EXPECT_EQ(f->data_offset(), w.layout().data_begin);
        EXPECT_EQ(f->tensor("y").offset, align == 1 ? 12u : std::max<uint64_t>(align, 16));
    }
}

TEST(GgufReader, OpenReadsAFileAndNamesItInErrors) {
    const std::string path = (std::filesystem::temp_directory_path() / "kvscope_gguf_open_test.gguf").string();
    GgufWriter w = small_model();
    w.write_file(path);
    auto f = GgufFile::open(path);
    EXPECT_EQ(f->source_name(), path);
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->tensor("output_norm.weight").n_bytes, 12u);
    EXPECT_GETTER_ERROR(f->get_u32("nope"), "in '" + path + "'");

    w.broken.version = 7;
    w.write_file(path);
    try {
        GgufFile::open(path);
        ADD_FAILURE() << "no error";
    } catch (const GgufError& e) {
        EXPECT_NE(std::string(e.what()).find("unsupported GGUF version 7 (KVScope reads version 3) in '" + path + "'"),
                  std::string::npos)
            << e.what();
    }
    std::filesystem::remove(path);
    EXPECT_THROW(GgufFile::open(path), Error);
}

// ---------- malformed files: header ----------

TEST(GgufMalformed, EmptyInput) {
    EXPECT_GGUF_ERROR(std::vector<uint8_t>{}, "truncated at offset 0 reading magic");
    EXPECT_THROW(GgufFile::parse(nullptr, 0), GgufError);
}

TEST(GgufMalformed, BadMagic) {
    GgufWriter w;
    w.broken.magic = "GGML";
    EXPECT_GGUF_ERROR(w.build(), "bad magic 'GGML' at offset 0: not a GGUF file");
    w.broken.magic = std::string("\x7f" "EL\n", 4);
    EXPECT_GGUF_ERROR(w.build(), "bad magic '\\x7fEL\\x0a'");
}

TEST(GgufMalformed, UnsupportedVersion) {
    GgufWriter w;
    w.broken.version = 1;
    EXPECT_GGUF_ERROR(w.build(), "unsupported GGUF version 1 (KVScope reads version 3)");
    w.broken.version = 4;
    EXPECT_GGUF_ERROR(w.build(), "unsupported GGUF version 4 (KVScope reads version 3)");
    w.broken.version = 0x03000000;
    EXPECT_GGUF_ERROR(w.build(), "big-endian files are not supported");
}

TEST(GgufMalformed, TruncatedHeader) {
    GgufWriter w;
    w.broken.truncate_at = 6;
    EXPECT_GGUF_ERROR(w.build(), "truncated at offset 4 reading version");
    w.broken.truncate_at = 10;
    EXPECT_GGUF_ERROR(w.build(), "truncated at offset 8 reading tensor count");
    w.broken.truncate_at = 23;
    EXPECT_GGUF_ERROR(w.build(), "truncated at offset 16 reading metadata count");
}

TEST(GgufMalformed, CountsBeyondTheFile) {
    // Counts are only believed as far as the bytes go: parsing runs into the
    // end of the file (or into bytes that are not what they claim) and says so.
    GgufWriter w = small_model();
    w.broken.tensor_count = 1000000;
    EXPECT_GGUF_ERROR(w.build(), "reading tensor info #2 name");
    GgufWriter kv;
    kv.add_u32("k", 1);
    kv.broken.kv_count = ~uint64_t{0};
    EXPECT_GGUF_ERROR(kv.build(), "truncated at offset 41 reading metadata key #1 length");
    GgufWriter t;
    t.broken.tensor_count = uint64_t{1} << 60;
    EXPECT_GGUF_ERROR(t.build(), "truncated at offset 24 reading tensor info #0 name length");
}

// ---------- malformed files: metadata ----------

TEST(GgufMalformed, TruncatedMetadataKey) {
    GgufWriter w;
    w.add_u32("general.key", 1);
    w.broken.truncate_at = 24 + 3;
    EXPECT_GGUF_ERROR(w.build(), "truncated at offset 24 reading metadata key #0 length");
    w.broken.truncate_at = 24 + 8 + 4;  // inside the key's 11 bytes
    EXPECT_GGUF_ERROR(w.build(), "string length 11 at offset 24 exceeds the 4 bytes left, reading metadata key #0");
}

TEST(GgufMalformed, TruncatedMetadataValueType) {
    GgufWriter w;
    w.add_u32("k", 1);
    w.broken.truncate_at = 24 + 8 + 1 + 2;
    EXPECT_GGUF_ERROR(w.build(), "truncated at offset 33 reading value type of key 'k'");
}

TEST(GgufMalformed, TruncatedMetadataValue) {
    GgufWriter w;
    w.add_u32("k", 1);
    w.broken.truncate_at = 24 + 8 + 1 + 4 + 3;
    EXPECT_GGUF_ERROR(w.build(), "truncated at offset 37 reading key 'k' value (need 4 bytes, 3 left)");
}

TEST(GgufMalformed, TruncatedStringBody) {
    GgufWriter w;
    w.add_string("k", "hello");
    w.broken.truncate_at = 24 + 8 + 1 + 4 + 8 + 2;
    EXPECT_GGUF_ERROR(w.build(), "string length 5 at offset 37 exceeds the 2 bytes left, reading key 'k' value");
}

TEST(GgufMalformed, StringLengthBeyondTheFile) {
    GgufWriter w;
    w.add("k", GgufValue::raw(static_cast<uint32_t>(ValueType::STRING), {0, 0, 0, 0, 0, 0, 0, 0x10, 'a'}));
    EXPECT_GGUF_ERROR(w.build(), "string length 1152921504606846976 at offset 37 exceeds the 1 bytes left");
}

TEST(GgufMalformed, TruncatedArray) {
    GgufWriter w;
    w.add_u32_array("arr", {1, 2, 3});
    const size_t value_at = 24 + 8 + 3 + 4;
    w.broken.truncate_at = value_at + 2;
    EXPECT_GGUF_ERROR(w.build(), "reading key 'arr' array element type");
    w.broken.truncate_at = value_at + 4 + 5;
    EXPECT_GGUF_ERROR(w.build(), "reading key 'arr' array count");
    w.broken.truncate_at = value_at + 12 + 10;  // the 12 bytes of elements cut to 10
    EXPECT_GGUF_ERROR(w.build(), "array count 3 at offset 43 cannot fit in the 10 bytes left, in key 'arr'");

    // Strings inside an array: the count fits (8 bytes each) but a body does not.
    GgufWriter s;
    s.add_string_array("toks", {"ab", "cdef"});
    s.broken.truncate_at = s.build().size() - 1;
    EXPECT_GGUF_ERROR(s.build(), "reading key 'toks'[1] value");
}

TEST(GgufMalformed, HugeArrayCount) {
    GgufWriter w;
    w.add("arr", GgufValue::array(ValueType::U64, {GgufValue::u64(1)}, uint64_t{1} << 62));
    EXPECT_GGUF_ERROR(w.build(), "array count 4611686018427387904");
    GgufWriter nested_count;
    nested_count.add("arr", GgufValue::array(ValueType::ARRAY, {}, 1000000000));
    EXPECT_GGUF_ERROR(nested_count.build(), "array count 1000000000");
}

TEST(GgufMalformed, UnknownValueType) {
    GgufWriter w;
    w.add("k", GgufValue::raw(13, {1, 2, 3, 4}));
    EXPECT_GGUF_ERROR(w.build(), "unknown value type id 13 at offset 33 for key 'k'");
    GgufWriter a;
    a.add("k", GgufValue::array_raw(99, {}));
    EXPECT_GGUF_ERROR(a.build(), "unknown value type id 99 at offset 37 for the elements of key 'k'");
}

TEST(GgufMalformed, BoolOtherThan0Or1) {
    GgufWriter w;
    w.add("flag", GgufValue::raw(static_cast<uint32_t>(ValueType::BOOL), {2}));
    EXPECT_GGUF_ERROR(w.build(), "bool value 2 at offset 40 is neither 0 nor 1, in key 'flag'");
}

TEST(GgufMalformed, DuplicateKey) {
    GgufWriter w;
    w.add_u32("llama.block_count", 1);
    w.add_string("llama.block_count", "x");
    EXPECT_GGUF_ERROR(w.build(), "duplicate key 'llama.block_count' at offset " + std::to_string(w.layout().kv_begin[1]));
}

TEST(GgufMalformed, KeysFromTheFileStayOnOneLine) {
    GgufWriter w;
    w.add_u8("a\nb", 1);
    w.add_u8("a\nb", 1);
    EXPECT_GGUF_ERROR(w.build(), "duplicate key 'a\\x0ab'");
}

TEST(GgufMalformed, BadAlignment) {
    GgufWriter zero;
    zero.set_alignment(0);
    EXPECT_GGUF_ERROR(zero.build(), "key 'general.alignment' is 0, not a power of two");
    GgufWriter three;
    three.set_alignment(3);
    EXPECT_GGUF_ERROR(three.build(), "key 'general.alignment' is 3, not a power of two");
    GgufWriter typed;
    typed.add_i32("general.alignment", 32);
    EXPECT_GGUF_ERROR(typed.build(), "key 'general.alignment' has type i32, expected u32");
}

// ---------- malformed files: tensor infos ----------

TEST(GgufMalformed, TruncatedTensorInfos) {
    GgufWriter w;
    w.add_tensor("t", {32, 2}, TensorType::F32);
    w.build();
    const size_t info = w.layout().tensor_info_begin[0];
    // name length, name, n_dims, dims, type, offset
    const std::pair<size_t, const char*> cuts[] = {
        {info + 4, "reading tensor info #0 name length"},
        {info + 8, "reading tensor info #0 name"},
        {info + 9 + 2, "reading tensor 't' dimension count"},
        {info + 13 + 8 + 3, "reading tensor 't' dimension 1"},
        {info + 29 + 1, "reading tensor 't' type"},
        {info + 33 + 7, "reading tensor 't' data offset"},
    };
    for (const auto& [cut, phrase] : cuts) {
        w.broken.truncate_at = cut;
        EXPECT_GGUF_ERROR(w.build(), phrase);
    }
}

TEST(GgufMalformed, TruncatedTensorData) {
    GgufWriter w = small_model();
    w.broken.truncate_at = w.build().size() - 1;
    EXPECT_GGUF_ERROR(w.build(), "tensor 'output_norm.weight' data [");
    EXPECT_GGUF_ERROR(w.build(), "lies outside the file (size");
}

TEST(GgufMalformed, TensorDataOutsideTheFile) {
    GgufWriter w;
    w.add_tensor("x", {4}, TensorType::F32);
    const size_t size = w.build().size();
    w.set_tensor_offset("x", 4096);
    const uint64_t start = w.layout().data_begin + 4096;
    EXPECT_GGUF_ERROR(w.build(), "tensor 'x' data [" + std::to_string(start) + ", " + std::to_string(start + 16) +
                                     ") lies outside the file (size " + std::to_string(size) + ")");
    // An offset so large that data_offset + offset wraps around.
    w.set_tensor_offset("x", ~uint64_t{0} - 31);
    EXPECT_GGUF_ERROR(w.build(), "tensor 'x' data");
}

TEST(GgufMalformed, TooManyDimensions) {
    GgufWriter w;
    w.add_tensor_raw("t", {1, 1, 1, 1, 1}, 0, std::vector<uint8_t>(4));
    EXPECT_GGUF_ERROR(w.build(), "tensor 't' has 5 dimensions at offset");
    GgufWriter none;
    none.add_tensor_raw("t", {}, 0, std::vector<uint8_t>(4));
    EXPECT_GGUF_ERROR(none.build(), "tensor 't' has 0 dimensions");
}

TEST(GgufMalformed, ZeroDimension) {
    GgufWriter w;
    w.add_tensor_raw("t", {4, 0}, 0, {});
    w.build();
    EXPECT_GGUF_ERROR(w.build(), "tensor 't' dimension 1 is 0 at offset " +
                                     std::to_string(w.layout().tensor_info_begin[0] + 9 + 4 + 8));
}

TEST(GgufMalformed, DimensionsThatOverflow) {
    GgufWriter w;
    w.add_tensor_raw("t", {uint64_t{1} << 32, uint64_t{1} << 31}, 0, {});
    EXPECT_GGUF_ERROR(w.build(), "tensor 't' dimensions overflow");
    // 2^62 F64 elements fit in int64 but not their 2^65 bytes.
    GgufWriter bytes;
    bytes.add_tensor_raw("t", {uint64_t{1} << 62}, static_cast<uint32_t>(TensorType::F64), {});
    EXPECT_GGUF_ERROR(bytes.build(), "tensor 't' byte size overflows");
}

TEST(GgufMalformed, UnknownTensorType) {
    GgufWriter w;
    w.add_tensor_raw("t", {32}, 4, std::vector<uint8_t>(20));  // Q4_2, removed from ggml
    EXPECT_GGUF_ERROR(w.build(), "tensor 't' has unknown type id 4 at offset");
    GgufWriter big;
    big.add_tensor_raw("t", {32}, 0xffffffffu, {});
    EXPECT_GGUF_ERROR(big.build(), "has unknown type id 4294967295");
}

TEST(GgufMalformed, RowNotAMultipleOfTheBlock) {
    GgufWriter w;
    w.add_tensor_raw("t", {16, 2}, static_cast<uint32_t>(TensorType::Q4_1), std::vector<uint8_t>(40));
    EXPECT_GGUF_ERROR(w.build(), "tensor 't' of type Q4_1 has ne[0] = 16, not a multiple of the block size 32");
}

TEST(GgufMalformed, MisalignedOffset) {
    GgufWriter w;
    w.add_tensor("t", {4}, TensorType::F32);
    w.set_tensor_offset("t", 8);
    EXPECT_GGUF_ERROR(w.build(), "tensor 't' data offset 8 at offset");
    EXPECT_GGUF_ERROR(w.build(), "is not a multiple of the alignment 32");
}

TEST(GgufMalformed, DuplicateTensor) {
    GgufWriter w;
    w.add_tensor("t", {4}, TensorType::F32);
    w.add_tensor("t", {4}, TensorType::F32);
    w.build();
    EXPECT_GGUF_ERROR(w.build(), "duplicate tensor 't' at offset " + std::to_string(w.layout().tensor_info_begin[1]));
}

TEST(GgufMalformed, TensorNameTooLong) {
    GgufWriter ok;
    ok.add_tensor(std::string(63, 'n'), {4}, TensorType::F32);
    EXPECT_EQ(parse(ok)->tensors()[0].name.size(), 63u);
    GgufWriter w;
    w.add_tensor(std::string(64, 'n'), {4}, TensorType::F32);
    EXPECT_GGUF_ERROR(w.build(), "tensor info #0 at offset 24 has a name of 64 bytes (ggml allows at most 63)");
}

// ---------- robustness sweeps ----------

// Every proper prefix of a valid file is rejected with a GgufError (tensor
// data runs to the end of the file), and never read past.
TEST(GgufMalformed, EveryTruncationIsAnError) {
    GgufWriter w = small_model();
    w.add("nested", GgufValue::array(ValueType::ARRAY, {GgufValue::array_u32({1, 2})}));
    const std::vector<uint8_t> full = w.build();
    for (size_t n = 0; n < full.size(); ++n) {
        const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_THROW(parse(cut), GgufError) << "prefix of " << n << " bytes";
    }
    EXPECT_NO_THROW(parse(full));
}

// Setting any single byte to 0xff either still parses or is a GgufError.
TEST(GgufMalformed, ByteCorruptionIsAnErrorOrHarmless) {
    const std::vector<uint8_t> full = small_model().build();
    for (size_t i = 0; i < full.size(); ++i) {
        std::vector<uint8_t> b = full;
        b[i] = 0xff;
        try {
            parse(b);
        } catch (const GgufError&) {
        }
    }
}

// ---------- real files ----------

TEST(GgufRealFiles, SmolLM2Model) {
    KVSCOPE_REQUIRE_MODEL(path);
    auto f = GgufFile::open(path);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->tensors().size(), 272u);
    EXPECT_EQ(f->metadata().size(), 33u);
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->get_u32("llama.block_count"), 30u);

    const TensorInfo& embd = f->tensor("token_embd.weight");
    EXPECT_EQ(embd.dims, (std::vector<uint64_t>{576, 49152}));
    EXPECT_EQ(embd.type, TensorType::Q8_0);
    EXPECT_EQ(embd.n_bytes, uint64_t{576} / 32 * 34 * 49152);
    const TensorInfo& k = f->tensor("blk.0.attn_k.weight");
    EXPECT_EQ(k.dims, (std::vector<uint64_t>{576, 192}));
    EXPECT_EQ(k.type, TensorType::Q4_1);
    for (const TensorInfo& t : f->tensors()) {
        EXPECT_EQ(t.offset % f->alignment(), 0u) << t.name;
        EXPECT_LE(f->data_offset() + t.offset + t.n_bytes, f->file_size()) << t.name;
    }
    EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens").size(), 49152u);
}

TEST(GgufRealFiles, VocabOnlyFiles) {
    const std::filesystem::path dir = std::filesystem::path(KVSCOPE_SHARED_DIR) / "data" / "tokenizer";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no tokenizer test data at " << dir;
    int seen = 0;
    for (const char* name : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-starcoder.gguf", "ggml-vocab-llama-spm.gguf"}) {
        const std::filesystem::path p = dir / name;
        if (!std::filesystem::exists(p)) {
            ADD_FAILURE() << "missing " << p;
            continue;
        }
        auto f = GgufFile::open(p.string());
        EXPECT_EQ(f->version(), 3u) << name;
        EXPECT_TRUE(f->tensors().empty()) << name;
        const auto tokens = f->get_string_array("tokenizer.ggml.tokens");
        EXPECT_GT(tokens.size(), 1000u) << name;
        EXPECT_FALSE(f->get_string("tokenizer.ggml.model").empty()) << name;
        ++seen;
    }
    EXPECT_EQ(seen, 3);
}

}  // namespace
}  // namespace kvscope::gguf
