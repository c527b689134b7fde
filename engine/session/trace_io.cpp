#include "session/trace_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "session/attention_codec.h"
#include "session/int_runs.h"
#include "session/trace_attn_bin.h"
#include "session/trace_json.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace kvscope {

void export_trace(const Trace& trace, const std::string& prefix) {
    // The JSON is written and synced first but renamed last, so that a
    // failure anywhere leaves no new JSON pointing at a missing attention file.
    AtomicFile json_file(prefix + ".json");
    json_file.write(trace_detail::trace_to_json(trace).dump(1));
    json_file.write("\n");
    json_file.finish();
    trace_detail::write_attention_file(trace, prefix + ".attn.bin");
    json_file.commit();
}

namespace {
// The JSON half of an import; `json_name` names it in messages.
template <typename Input>
trace_detail::ParsedTrace parse_trace_json(Input&& input, const std::string& json_name) {
    try {
        return trace_detail::trace_from_json(nlohmann::json::parse(std::forward<Input>(input)));
    } catch (const std::exception& e) {
        throw Error("malformed trace " + json_name + ": " + e.what());
    }
}

Trace assemble(trace_detail::ParsedTrace parsed) {
    Trace trace(parsed.header, parsed.options);
    trace.restore(std::move(parsed.prefill), std::move(parsed.steps), parsed.reached, parsed.reached_at);
    return trace;
}
}  // namespace

Trace import_trace(const std::string& prefix) {
    const std::string json_path = prefix + ".json";
    std::ifstream in(json_path, std::ios::binary);
    if (!in) throw Error("cannot read " + json_path + ": " + std::strerror(errno));
    trace_detail::ParsedTrace parsed = parse_trace_json(in, json_path);
    trace_detail::read_attention_file(prefix + ".attn.bin", parsed.header, parsed.prefill, parsed.steps);
    return assemble(std::move(parsed));
}

Trace import_trace_from_memory(std::string_view json_text, const uint8_t* attn, size_t attn_size, const std::string& name) {
    trace_detail::ParsedTrace parsed = parse_trace_json(json_text, name + ".json");
    trace_detail::read_attention_bytes(attn, attn_size, name + ".attn.bin", parsed.header, parsed.prefill, parsed.steps);
    return assemble(std::move(parsed));
}

namespace {
void append_rows(const trace_detail::StoredEntry& e, int32_t layer, int32_t head, int32_t n_head, int32_t n_cols,
                 AtomicFile& out) {
    std::vector<float> row(static_cast<size_t>(n_cols));  // [n_cols] value per key position
    std::vector<char> has(static_cast<size_t>(n_cols));   // [n_cols] whether the key was held
    char buf[32];
    for (const trace_detail::StoredQuery& q : e.queries) {
        const trace_detail::StoredLayerAttention& la = q.layers[static_cast<size_t>(layer)];
        std::fill(has.begin(), has.end(), 0);
        if (!la.codes.empty()) {
            const std::vector<int32_t> keys = int_runs::decode(la.keys);  // [n_keys]
            const size_t n_keys = keys.size();
            for (size_t k = 0; k < n_keys; ++k) {
                float v = 0;
                if (head >= 0) {
                    v = attention_codec::decode(la.codes[static_cast<size_t>(head) * n_keys + k]);
                } else {
                    for (int32_t hd = 0; hd < n_head; ++hd) v += attention_codec::decode(la.codes[static_cast<size_t>(hd) * n_keys + k]);
                    v /= static_cast<float>(n_head);
                }
                row[static_cast<size_t>(keys[k])] = v;
                has[static_cast<size_t>(keys[k])] = 1;
            }
        }
        out.write(std::to_string(q.position));
        for (int32_t c = 0; c < n_cols; ++c) {
            out.write(",");
            if (has[static_cast<size_t>(c)]) out.write(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%.9g", row[static_cast<size_t>(c)])));
        }
        out.write("\n");
    }
}
}  // namespace

void export_attention_csv(const Trace& trace, int32_t layer, int32_t head, const std::string& path) {
    const TraceHeader& h = trace.header();
    if (layer < 0 || layer >= h.n_layer)
        throw InvalidSetting("attention CSV: layer " + std::to_string(layer) + " outside 0.." + std::to_string(h.n_layer - 1));
    if (head < -1 || head >= h.n_head)
        throw InvalidSetting("attention CSV: head " + std::to_string(head) + " outside 0.." + std::to_string(h.n_head - 1) +
                             " (or -1 for the mean)");
    std::vector<const trace_detail::StoredEntry*> entries;
    if (trace.stored_prefill()) entries.push_back(trace.stored_prefill());
    for (size_t i = 0; i < trace.size(); ++i) entries.push_back(&trace.stored_step(i));
    int32_t n_cols = 0;  // one past the largest key position
    for (const auto* e : entries)
        for (const auto& q : e->queries) {
            const std::vector<int32_t>& runs = q.layers[static_cast<size_t>(layer)].keys;
            if (!runs.empty()) n_cols = std::max(n_cols, runs[runs.size() - 2] + runs.back());
        }
    AtomicFile out(path);
    out.write("query\\key");
    for (int32_t c = 0; c < n_cols; ++c) {
        out.write(",");
        out.write(std::to_string(c));
    }
    out.write("\n");
    for (const auto* e : entries) append_rows(*e, layer, head, h.n_head, n_cols, out);
    out.commit();
}

}  // namespace kvscope
