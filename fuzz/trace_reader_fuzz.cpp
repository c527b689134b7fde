// libFuzzer entry for a saved session's reader (session/trace_io.h): any pair
// of files must either import or throw kvscope::Error, and an imported trace
// must decode every entry (meta, views, attention, layer slices) without a bad
// access or an allocation beyond what its bytes justify (-rss_limit_mb and
// -malloc_limit_mb in scripts/run-fuzzer).
//
// Input: u32 (little-endian) length of the JSON, the JSON text, then the
// attention file's bytes (fuzz/corpus/trace holds real sessions so framed).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "session/trace_io.h"
#include "util/error.h"

namespace {
volatile uint64_t g_sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    uint32_t json_size;
    std::memcpy(&json_size, data, 4);
    data += 4;
    size -= 4;
    if (json_size > size) json_size = static_cast<uint32_t>(size);
    const std::string_view json(reinterpret_cast<const char*>(data), json_size);
    try {
        const kvscope::Trace trace = kvscope::import_trace_from_memory(json, data + json_size, size - json_size, "fuzz");
        uint64_t h = trace.size() + trace.bytes_used() + trace.budget_message().size();
        const int64_t first = trace.has_prefill() ? -1 : 0;
        for (int64_t e = first; e < static_cast<int64_t>(trace.size()); ++e) {
            h += trace.meta(e).top.size() + trace.query_count(e);
            for (const auto& v : trace.views(e)) h += v.held_positions.size();
            for (const auto& q : trace.attention(e)) h += q.layers.size();
            for (int32_t l = 0; l < trace.header().n_layer; ++l) h += trace.layer_slice(e, l).queries.size();
        }
        g_sink = h;
    } catch (const kvscope::Error&) {
    }
    return 0;
}
