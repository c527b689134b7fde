#include "session/trace_attn_bin.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "session/int_runs.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace kvscope::trace_detail {

static_assert(std::endian::native == std::endian::little, "the attention file is little-endian");

namespace {
constexpr char kMagic[4] = {'K', 'V', 'S', 'A'};
constexpr char kEndMagic[4] = {'K', 'V', 'S', 'E'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kCodecLog8 = 1;

void put_u32(AtomicFile& f, uint32_t v) { f.write(&v, 4); }
void put_i32(AtomicFile& f, int32_t v) { f.write(&v, 4); }

void write_entry(AtomicFile& f, const StoredEntry& e) {
    write_attention_query_count(f, e.queries.size());
    for (const StoredQuery& q : e.queries) write_attention_query(f, q);
}

// Reads with bounds checks against the file's size.
class Reader {
public:
    explicit Reader(const std::string& path) : path_(path) {
        file_.reset(std::fopen(path.c_str(), "rb"));
        if (!file_) throw Error("cannot read " + path + ": " + std::strerror(errno));
        if (std::fseek(file_.get(), 0, SEEK_END) != 0) throw Error("cannot read " + path + ": seek failed");
        size_ = static_cast<uint64_t>(std::ftell(file_.get()));
        std::rewind(file_.get());
    }
    // The same bytes already in memory (`name` stands for the file in messages).
    Reader(const uint8_t* data, size_t size, const std::string& name) : path_(name), size_(size) {
        if (size > 0) file_.reset(fmemopen(const_cast<uint8_t*>(data), size, "rb"));
        else file_.reset(std::tmpfile());  // fmemopen refuses size 0
        if (!file_) throw Error("cannot read " + name + ": " + std::strerror(errno));
    }
    [[noreturn]] void fail(const std::string& why) const {
        throw Error("malformed attention file " + path_ + ": " + why + " (at byte " + std::to_string(offset_) + ")");
    }
    void bytes(void* out, uint64_t n, const char* what) {
        if (n > size_ - offset_)
            fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
                 std::to_string(size_ - offset_) + " left");
        if (n > 0 && std::fread(out, 1, n, file_.get()) != n) fail(std::string("read error in ") + what);
        offset_ += n;
    }
    uint32_t u32(const char* what) { uint32_t v; bytes(&v, 4, what); return v; }
    int32_t i32(const char* what) { int32_t v; bytes(&v, 4, what); return v; }
    uint64_t left() const { return size_ - offset_; }

private:
    struct Closer { void operator()(std::FILE* f) const { std::fclose(f); } };
    std::string path_;
    std::unique_ptr<std::FILE, Closer> file_;
    uint64_t size_ = 0;
    uint64_t offset_ = 0;
};

void read_entry(Reader& r, const TraceHeader& h, StoredEntry& e) {
    const uint32_t n_queries = r.u32("query count");
    const uint64_t min_query_bytes = 4 + static_cast<uint64_t>(h.n_layer) * 8;
    if (n_queries > r.left() / min_query_bytes)
        r.fail("query count " + std::to_string(n_queries) + " beyond the end of the file");
    e.queries.resize(n_queries);
    for (StoredQuery& q : e.queries) {
        q.position = r.i32("query position");
        if (q.position < 0 || q.position >= h.n_ctx) r.fail("query position " + std::to_string(q.position) + " outside the context");
        // A query is fed at or before its entry's position, and attends only to
        // keys up to itself (which also bounds what decoding its keys allocates).
        if (q.position > e.meta.position)
            r.fail("query position " + std::to_string(q.position) + " after its entry's position " +
                   std::to_string(e.meta.position));
        q.layers.resize(static_cast<size_t>(h.n_layer));
        for (StoredLayerAttention& l : q.layers) {
            const uint32_t n_runs = r.u32("run count");
            if (n_runs > r.left() / 8) r.fail("run count " + std::to_string(n_runs) + " beyond the end of the file");
            l.keys.resize(static_cast<size_t>(n_runs) * 2);  // [n_runs][2]
            r.bytes(l.keys.data(), l.keys.size() * sizeof(int32_t), "key runs");
            const std::string problem = int_runs::check(l.keys.data(), l.keys.size(), int64_t{q.position} + 1, true);
            if (!problem.empty()) r.fail("key positions: " + problem);
            const uint32_t n_codes = r.u32("code count");
            const uint64_t expected = static_cast<uint64_t>(int_runs::length(l.keys)) * static_cast<uint64_t>(h.n_head);
            if (n_codes != 0 && n_codes != expected)
                r.fail("code count " + std::to_string(n_codes) + ", expected 0 or n_head x n_keys = " + std::to_string(expected));
            if (n_codes > r.left()) r.fail("code count " + std::to_string(n_codes) + " beyond the end of the file");
            l.codes.resize(n_codes);  // [n_head][n_keys]
            r.bytes(l.codes.data(), n_codes, "codes");
        }
    }
}
}  // namespace

void write_attention_begin(AtomicFile& f, const TraceHeader& h, bool has_prefill, size_t n_steps) {
    f.write(kMagic, 4);
    put_u32(f, kVersion);
    put_u32(f, kCodecLog8);
    put_u32(f, static_cast<uint32_t>(h.n_layer));
    put_u32(f, static_cast<uint32_t>(h.n_head));
    put_u32(f, has_prefill ? 1 : 0);
    put_u32(f, static_cast<uint32_t>(n_steps));
}

void write_attention_query_count(AtomicFile& f, size_t n_queries) { put_u32(f, static_cast<uint32_t>(n_queries)); }

void write_attention_query(AtomicFile& f, const StoredQuery& q) {
    put_i32(f, q.position);
    for (const StoredLayerAttention& l : q.layers) {
        put_u32(f, static_cast<uint32_t>(l.keys.size() / 2));
        f.write(l.keys.data(), l.keys.size() * sizeof(int32_t));
        put_u32(f, static_cast<uint32_t>(l.codes.size()));
        f.write(l.codes.data(), l.codes.size());
    }
}

void write_attention_end(AtomicFile& f) { f.write(kEndMagic, 4); }

void write_attention_file(const Trace& trace, const std::string& path) {
    AtomicFile f(path);
    write_attention_begin(f, trace.header(), trace.has_prefill(), trace.size());
    if (trace.stored_prefill()) write_entry(f, *trace.stored_prefill());
    for (size_t i = 0; i < trace.size(); ++i) write_entry(f, trace.stored_step(i));
    write_attention_end(f);
    f.commit();
}

namespace {
void read_attention(Reader& r, const TraceHeader& h, std::optional<StoredEntry>& prefill, std::vector<StoredEntry>& steps) {
    char magic[4];
    r.bytes(magic, 4, "magic");
    if (std::memcmp(magic, kMagic, 4) != 0) r.fail("bad magic (not a KVSA attention file)");
    const uint32_t version = r.u32("version");
    if (version != kVersion) r.fail("unsupported version " + std::to_string(version));
    const uint32_t codec = r.u32("codec");
    if (codec != kCodecLog8) r.fail("unknown attention codec " + std::to_string(codec));
    const uint32_t n_layer = r.u32("n_layer");
    const uint32_t n_head = r.u32("n_head");
    if (n_layer != static_cast<uint32_t>(h.n_layer) || n_head != static_cast<uint32_t>(h.n_head))
        r.fail("n_layer/n_head " + std::to_string(n_layer) + "/" + std::to_string(n_head) + " differ from the JSON's " +
               std::to_string(h.n_layer) + "/" + std::to_string(h.n_head));
    const uint32_t has_prefill = r.u32("has_prefill");
    const uint32_t n_steps = r.u32("n_steps");
    if (has_prefill != (prefill ? 1u : 0u) || n_steps != steps.size())
        r.fail("holds " + std::to_string(n_steps) + " steps" + (has_prefill ? " and a prefill" : "") + ", the JSON " +
               std::to_string(steps.size()) + (prefill ? " and a prefill" : ""));
    if (prefill) read_entry(r, h, *prefill);
    for (StoredEntry& e : steps) read_entry(r, h, e);
    r.bytes(magic, 4, "end magic");
    if (std::memcmp(magic, kEndMagic, 4) != 0) r.fail("bad end magic");
    if (r.left() != 0) r.fail(std::to_string(r.left()) + " trailing bytes");
}
}  // namespace

void read_attention_file(const std::string& path, const TraceHeader& h, std::optional<StoredEntry>& prefill,
                         std::vector<StoredEntry>& steps) {
    Reader r(path);
    read_attention(r, h, prefill, steps);
}

void read_attention_bytes(const uint8_t* data, size_t size, const std::string& name, const TraceHeader& h,
                          std::optional<StoredEntry>& prefill, std::vector<StoredEntry>& steps) {
    Reader r(data, size, name);
    read_attention(r, h, prefill, steps);
}

}  // namespace kvscope::trace_detail
