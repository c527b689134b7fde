// GGUF parsing: header, metadata, tensor infos and data placement. Every
// count and length is checked against the bytes left before anything is
// allocated, so a hostile file can cost at most a small multiple of its size.
#include "gguf/gguf_file.h"

#include <algorithm>
#include <limits>

#include "gguf/byte_reader.h"
#include "gguf/gguf_text.h"

namespace kvscope::gguf {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxArrayDepth = 64;  // arrays inside arrays; real files use 1
constexpr size_t kMaxTensorName = 64;    // GGML_MAX_NAME, which includes ggml's NUL
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Smallest encoding of one value of a type, to bound counts before allocating.
uint64_t min_encoded_size(ValueType t) {
    switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::STRING: return 8;      // u64 length
    case ValueType::ARRAY: return 4 + 8;   // element type + count
    }
    return 1;
}

// Where a value sits, for messages: key, then [i] per array level. Built
// lazily from a chain on the stack so that successful reads pay nothing.
struct ValuePath {
    const std::string_view* key = nullptr;
    const ValuePath* parent = nullptr;
    uint64_t index = 0;

    std::string str() const {
        if (parent == nullptr) return "key " + quoted(*key);
        return parent->str() + "[" + std::to_string(index) + "]";
    }
};

class ValueReader {
public:
    explicit ValueReader(ByteReader& r) : r_(r) {}

    Value read(ValueType type, const ValuePath& path, uint32_t depth) {
        auto what = [&] { return path.str() + " value"; };
        Value v;
        v.type = type;
        switch (type) {
        case ValueType::U8: v.u = r_.read<uint8_t>(what); break;
        case ValueType::I8: v.i = r_.read<int8_t>(what); break;
        case ValueType::U16: v.u = r_.read<uint16_t>(what); break;
        case ValueType::I16: v.i = r_.read<int16_t>(what); break;
        case ValueType::U32: v.u = r_.read<uint32_t>(what); break;
        case ValueType::I32: v.i = r_.read<int32_t>(what); break;
        case ValueType::U64: v.u = r_.read<uint64_t>(what); break;
        case ValueType::I64: v.i = r_.read<int64_t>(what); break;
        case ValueType::F32: v.f = r_.read<float>(what); break;
        case ValueType::F64: v.f = r_.read<double>(what); break;
        case ValueType::BOOL: {
            const size_t at = r_.pos();
            v.u = r_.read<uint8_t>(what);
            if (v.u > 1)
                fail(r_.source(), "bool value " + std::to_string(v.u) + " at offset " + std::to_string(at) +
                                      " is neither 0 nor 1, in " + path.str());
            break;
        }
        case ValueType::STRING: v.s = std::string(r_.string(what)); break;
        case ValueType::ARRAY: read_array(v, path, depth); break;
        }
        return v;
    }

private:
    void read_array(Value& v, const ValuePath& path, uint32_t depth) {
        const size_t type_at = r_.pos();
        const uint32_t elem = r_.read<uint32_t>([&] { return path.str() + " array element type"; });
        if (!is_value_type(elem))
            fail(r_.source(), "unknown value type id " + std::to_string(elem) + " at offset " +
                                  std::to_string(type_at) + " for the elements of " + path.str());
        v.array_type = static_cast<ValueType>(elem);
        if (v.array_type == ValueType::ARRAY && depth + 1 >= kMaxArrayDepth)
            fail(r_.source(), "arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels at offset " +
                                  std::to_string(type_at) + " in " + path.str());
        const size_t count_at = r_.pos();
        const uint64_t count = r_.read<uint64_t>([&] { return path.str() + " array count"; });
        if (count > r_.remaining() / min_encoded_size(v.array_type))
            fail(r_.source(), "array count " + std::to_string(count) + " at offset " + std::to_string(count_at) +
                                  " cannot fit in the " + std::to_string(r_.remaining()) + " bytes left, in " +
                                  path.str());
        v.array.reserve(static_cast<size_t>(count));
        for (uint64_t i = 0; i < count; ++i) {
            const ValuePath elem_path{nullptr, &path, i};
            v.array.push_back(read(v.array_type, elem_path, depth + 1));
        }
    }

    ByteReader& r_;
};

// Round `v` up to a multiple of the power of two `a`; v is at most a file size.
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
    std::unique_ptr<GgufFile> f(new GgufFile());
    f->mapping_ = std::make_unique<MappedFile>(path);
    f->bytes_ = f->mapping_->data();
    f->size_ = f->mapping_->size();
    f->source_name_ = path;
    f->parse_all();
    return f;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, std::string source_name) {
    std::unique_ptr<GgufFile> f(new GgufFile());
    f->bytes_ = data;
    f->size_ = data == nullptr ? 0 : size;
    f->source_name_ = std::move(source_name);
    f->parse_all();
    return f;
}

void GgufFile::fail(const std::string& message) const { gguf::fail(source_name_, message); }

void GgufFile::parse_all() {
    ByteReader r(bytes_, size_, source_name_);

    const std::string_view magic = r.bytes(4, [] { return std::string("magic"); });
    if (magic != std::string_view(kMagic, 4)) fail("bad magic " + quoted(magic) + " at offset 0: not a GGUF file");

    version_ = r.read<uint32_t>([] { return std::string("version"); });
    if (version_ != 3 && version_ != 2) {
        // A big-endian GGUF reads as a byte-swapped version number.
        const bool swapped = version_ == 0x02000000u || version_ == 0x03000000u;
        fail("unsupported GGUF version " + std::to_string(version_) + " (KVScope reads version 3)" +
             (swapped ? ": big-endian files are not supported" : ""));
    }

    const uint64_t tensor_count = r.read<uint64_t>([] { return std::string("tensor count"); });
    const uint64_t kv_count = r.read<uint64_t>([] { return std::string("metadata count"); });

    // The counts are not trusted for allocation: reserve only what the bytes
    // left could hold (a metadata entry takes at least 8 (key length) + 4 + 1
    // bytes, a tensor info 8 (name length) + 4 + 8 (one dim) + 4 + 8). A count
    // larger than the file holds ends in a precise "truncated at" error.
    metadata_.reserve(static_cast<size_t>(std::min<uint64_t>(kv_count, r.remaining() / 13)));
    for (uint64_t i = 0; i < kv_count; ++i) parse_metadata(r);
    parse_alignment();

    tensors_.reserve(static_cast<size_t>(std::min<uint64_t>(tensor_count, r.remaining() / 32)));
    for (uint64_t i = 0; i < tensor_count; ++i) parse_tensor_infos(r);

    // The data section starts at the end of the infos, padded to the alignment.
    data_offset_ = align_up(r.pos(), alignment_);
    locate_tensor_data();
}

// One metadata entry: key string, u32 value type, value.
void GgufFile::parse_metadata(ByteReader& r) {
    const size_t index = metadata_.size();
    const size_t at = r.pos();
    const std::string_view key = r.string([&] { return "metadata key #" + std::to_string(index); });
    const size_t type_at = r.pos();
    const uint32_t type = r.read<uint32_t>([&] { return "value type of key " + quoted(key); });
    if (!is_value_type(type))
        fail("unknown value type id " + std::to_string(type) + " at offset " + std::to_string(type_at) +
             " for key " + quoted(key));
    if (key_index_.find(key) != key_index_.end())
        fail("duplicate key " + quoted(key) + " at offset " + std::to_string(at));

    ValueReader values(r);
    const ValuePath path{&key, nullptr, 0};
    Value v = values.read(static_cast<ValueType>(type), path, 0);
    key_index_.emplace(std::string(key), index);
    metadata_.emplace_back(std::string(key), std::move(v));
}

void GgufFile::parse_alignment() {
    const Value* v = find("general.alignment");
    if (v == nullptr) {
        alignment_ = kDefaultAlignment;
        return;
    }
    if (v->type != ValueType::U32)
        fail(std::string("key 'general.alignment' has type ") + value_type_name(v->type) + ", expected u32");
    const uint64_t a = v->u;
    if (a == 0 || (a & (a - 1)) != 0)
        fail("key 'general.alignment' is " + std::to_string(a) + ", not a power of two");
    alignment_ = static_cast<uint32_t>(a);
}

// One tensor info: name, u32 n_dims, n_dims x u64 dims, u32 type, u64 offset.
void GgufFile::parse_tensor_infos(ByteReader& r) {
    const size_t index = tensors_.size();
    const size_t at = r.pos();
    TensorInfo t;
    const std::string_view name = r.string([&] { return "tensor info #" + std::to_string(index) + " name"; });
    if (name.size() >= kMaxTensorName)
        fail("tensor info #" + std::to_string(index) + " at offset " + std::to_string(at) + " has a name of " +
             std::to_string(name.size()) + " bytes (ggml allows at most " + std::to_string(kMaxTensorName - 1) +
             "): " + quoted(name));
    const std::string qname = "tensor " + quoted(name);
    if (tensor_index_.find(name) != tensor_index_.end())
        fail("duplicate " + qname + " at offset " + std::to_string(at));
    t.name = std::string(name);

    const size_t dims_at = r.pos();
    const uint32_t n_dims = r.read<uint32_t>([&] { return qname + " dimension count"; });
    if (n_dims == 0 || n_dims > kMaxDims)
        fail(qname + " has " + std::to_string(n_dims) + " dimensions at offset " + std::to_string(dims_at) +
             " (expected 1 to " + std::to_string(kMaxDims) + ")");
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
        const size_t dim_at = r.pos();
        const uint64_t ne = r.read<uint64_t>([&] { return qname + " dimension " + std::to_string(d); });
        if (ne == 0) fail(qname + " dimension " + std::to_string(d) + " is 0 at offset " + std::to_string(dim_at));
        if (t.n_elements > kMaxElements / ne)
            fail(qname + " dimensions overflow at offset " + std::to_string(dim_at) + ": more than 2^63-1 elements");
        t.n_elements *= ne;
        t.dims.push_back(ne);
    }

    const size_t type_at = r.pos();
    const uint32_t type_id = r.read<uint32_t>([&] { return qname + " type"; });
    const TensorTypeInfo* info = tensor_type_info(type_id);
    if (info == nullptr)
        fail(qname + " has unknown type id " + std::to_string(type_id) + " at offset " + std::to_string(type_at));
    t.type = static_cast<TensorType>(type_id);
    if (t.dims[0] % info->block_elems != 0)
        fail(qname + " of type " + info->name + " has ne[0] = " + std::to_string(t.dims[0]) +
             ", not a multiple of the block size " + std::to_string(info->block_elems));
    // n_elements < 2^63 and block_bytes < 2^9 per block_elems >= 1: check anyway.
    const uint64_t blocks = t.n_elements / info->block_elems;
    if (blocks > std::numeric_limits<uint64_t>::max() / info->block_bytes)
        fail(qname + " byte size overflows");
    t.n_bytes = blocks * info->block_bytes;

    const size_t offset_at = r.pos();
    t.offset = r.read<uint64_t>([&] { return qname + " data offset"; });
    if (t.offset % alignment_ != 0)
        fail(qname + " data offset " + std::to_string(t.offset) + " at offset " + std::to_string(offset_at) +
             " is not a multiple of the alignment " + std::to_string(alignment_));

    tensor_index_.emplace(t.name, index);
    tensors_.push_back(std::move(t));
}

void GgufFile::locate_tensor_data() {
    for (TensorInfo& t : tensors_) {
        const uint64_t max = std::numeric_limits<uint64_t>::max();
        const bool overflow = t.offset > max - data_offset_ || t.n_bytes > max - data_offset_ - t.offset;
        const uint64_t begin = overflow ? max : data_offset_ + t.offset;
        const uint64_t end = overflow ? max : begin + t.n_bytes;
        if (overflow || end > size_)
            fail("tensor " + quoted(t.name) + " data [" + std::to_string(begin) + ", " +
                 (overflow ? std::string("overflow") : std::to_string(end)) + ") lies outside the file (size " +
                 std::to_string(size_) + ")");
        t.data = bytes_ + begin;
    }
}

}  // namespace kvscope::gguf
