#include "session/trace_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
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

uint64_t query_bytes(const trace_detail::StoredQuery& q) {
    uint64_t n = 0;
    for (const trace_detail::StoredLayerAttention& l : q.layers) n += l.keys.size() * sizeof(int32_t) + l.codes.size();
    return n;
}

// The budget pause of export_trace_shared, lifted however the export ends.
class BudgetPause {
public:
    BudgetPause(Trace& trace, std::mutex& mutex) : trace_(trace), mutex_(mutex) { trace_.pause_budget(); }  // under the lock
    ~BudgetPause() {
        std::lock_guard<std::mutex> lock(mutex_);
        trace_.resume_budget();
    }
    BudgetPause(const BudgetPause&) = delete;
    BudgetPause& operator=(const BudgetPause&) = delete;

private:
    Trace& trace_;
    std::mutex& mutex_;
};

}  // namespace

bool export_trace_shared(Trace& trace, std::mutex& mutex, const std::string& prefix,
                         const std::function<bool(double)>& progress) {
    constexpr size_t kJsonSteps = 32;              // steps' metadata copied out per lock
    constexpr uint64_t kAttentionBytes = 1 << 20;  // attention copied out per lock
    using trace_detail::StoredEntry;
    using trace_detail::StoredQuery;

    // What is saved: the trace as it is now, its JSON without the steps, and
    // how much attention there is to write (for the progress).
    std::optional<BudgetPause> pause;
    nlohmann::json doc;
    TraceHeader header;
    size_t n_steps = 0;
    bool has_prefill = false;
    uint64_t attention_total = 0;
    {
        std::lock_guard<std::mutex> lock(mutex);
        pause.emplace(trace, mutex);
        header = trace.header();
        n_steps = trace.size();
        has_prefill = trace.has_prefill();
        doc = trace_detail::trace_to_json_without_steps(trace);
        if (has_prefill)
            for (const StoredQuery& q : trace.stored_prefill()->queries) attention_total += query_bytes(q);
        for (size_t i = 0; i < n_steps; ++i)
            for (const StoredQuery& q : trace.stored_step(i).queries) attention_total += query_bytes(q);
    }
    // The JSON counts for a tenth of the work, the attention for the rest.
    const auto report = [&](double json_done, uint64_t attention_done) {
        if (!progress) return true;
        const double attention = attention_total > 0 ? static_cast<double>(attention_done) / static_cast<double>(attention_total) : 1.0;
        return progress(0.1 * json_done + 0.9 * attention);
    };

    // Each piece is copied out under the lock (its metadata and cache maps, no
    // attention) and turned into JSON outside it: the lock is held for a
    // small part of the time, so the threads waiting for it get it between
    // pieces (std::mutex is not fair to them).
    nlohmann::json& steps = doc["steps"];
    std::vector<StoredEntry> metas;
    for (size_t i = 0; i < n_steps;) {
        metas.clear();
        {
            std::lock_guard<std::mutex> lock(mutex);
            for (const size_t end = std::min(n_steps, i + kJsonSteps); i < end; ++i) {
                const StoredEntry& e = trace.stored_step(i);
                metas.push_back(StoredEntry{e.meta, e.views, {}});
            }
        }
        for (const StoredEntry& e : metas) steps.push_back(trace_detail::entry_to_json(e));
        if (!report(static_cast<double>(i) / static_cast<double>(n_steps), 0)) return false;
    }
    // As export_trace: the JSON is written and synced first but renamed last.
    AtomicFile json_file(prefix + ".json");
    json_file.write(doc.dump(1));
    json_file.write("\n");
    json_file.finish();
    doc = nullptr;

    AtomicFile attention_file(prefix + ".attn.bin");
    trace_detail::write_attention_begin(attention_file, header, has_prefill, n_steps);
    const size_t n_entries = n_steps + (has_prefill ? 1 : 0);
    const auto entry_at = [&](size_t g) -> const StoredEntry& {  // g: 0 = the prefill when there is one
        return has_prefill && g == 0 ? *trace.stored_prefill() : trace.stored_step(g - (has_prefill ? 1 : 0));
    };
    // Queries are copied out about 1 MiB at a time (a long prompt's entry
    // alone may hold hundreds of MiB), then written outside the lock.
    struct Piece {
        std::optional<size_t> entry_queries;  // set where an entry begins: its query count comes first
        std::vector<StoredQuery> queries;
    };
    size_t g = 0, next_query = 0;
    uint64_t attention_done = 0;
    while (g < n_entries) {
        std::vector<Piece> pieces;
        uint64_t bytes = 0;
        {
            std::lock_guard<std::mutex> lock(mutex);
            while (g < n_entries && bytes < kAttentionBytes) {
                const StoredEntry& e = entry_at(g);
                Piece piece;
                if (next_query == 0) piece.entry_queries = e.queries.size();
                for (; next_query < e.queries.size() && bytes < kAttentionBytes; ++next_query) {
                    piece.queries.push_back(e.queries[next_query]);
                    bytes += query_bytes(piece.queries.back());
                }
                if (next_query == e.queries.size()) {
                    ++g;
                    next_query = 0;
                }
                pieces.push_back(std::move(piece));
            }
        }
        for (const Piece& piece : pieces) {
            if (piece.entry_queries) trace_detail::write_attention_query_count(attention_file, *piece.entry_queries);
            for (const StoredQuery& q : piece.queries) trace_detail::write_attention_query(attention_file, q);
        }
        attention_done += bytes;
        if (!report(1.0, attention_done)) return false;
    }
    trace_detail::write_attention_end(attention_file);
    attention_file.commit();
    json_file.commit();
    return true;
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
