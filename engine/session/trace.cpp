#include "session/trace.h"

#include <algorithm>
#include <cmath>

#include "session/attention_codec.h"
#include "session/int_runs.h"
#include "session/session.h"
#include "util/error.h"

namespace kvscope {

using trace_detail::StoredEntry;
using trace_detail::StoredLayerAttention;
using trace_detail::StoredLayerView;
using trace_detail::StoredQuery;

void TraceHeader::validate() const {
    // The upper bounds are far beyond any model we run; a file from elsewhere
    // that claims more is refused before anything is sized by its numbers.
    auto within = [](int64_t v, int64_t lo, int64_t hi, const char* name) {
        if (v < lo || v > hi)
            throw InvalidSetting(std::string("trace header: ") + name + " must be in " + std::to_string(lo) + ".." +
                                 std::to_string(hi) + ", got " + std::to_string(v));
    };
    within(n_layer, 1, kMaxLayers, "n_layer");
    within(n_head, 1, kMaxHeads, "n_head");
    within(n_head_kv, 1, n_head, "n_head_kv");
    within(head_dim, 0, kMaxHeadDim, "head_dim");
    within(n_ctx, 1, kMaxContext, "n_ctx");
    if (n_head % n_head_kv != 0)
        throw InvalidSetting("trace header: n_head " + std::to_string(n_head) + " is not a multiple of n_head_kv " +
                             std::to_string(n_head_kv));
    if (prompt_tokens.size() != prompt_texts.size())
        throw InvalidSetting("trace header: " + std::to_string(prompt_tokens.size()) + " prompt tokens but " +
                             std::to_string(prompt_texts.size()) + " prompt texts");
    within(static_cast<int64_t>(prompt_tokens.size()), 0, n_ctx, "the prompt's length");
    if (!layer_windows.empty()) {
        within(static_cast<int64_t>(layer_windows.size()), n_layer, n_layer, "the number of layer windows");
        for (int32_t w : layer_windows) within(w, 0, kMaxContext, "a layer's window");
    }
}

TraceHeader trace_header_for(const Model& model, const Session& session, const std::vector<int32_t>& prompt) {
    TraceHeader h;
    const ModelConfig& c = model.config();
    h.model_name = c.name;
    h.model_path = model.file().source_name();
    h.n_layer = c.n_layer;
    h.n_head = c.n_head;
    h.n_head_kv = c.n_head_kv;
    h.head_dim = c.head_dim;
    h.n_ctx = session.n_ctx();
    h.prompt_tokens = prompt;
    for (TokenId id : prompt) h.prompt_texts.push_back(model.tokenizer().token_to_piece(id));
    const PolicyConfig& p = session.policy();
    h.policy = p.describe();
    h.kv_type = p.kv_type;
    h.positions = p.positions;
    h.sampling = session.options().sampling;
    h.backend = session.backend().name();
    if (c.native_window > 0)
        for (int32_t l = 0; l < c.n_layer; ++l) h.layer_windows.push_back(c.layer_window(l));
    return h;
}

void TraceOptions::validate() const {
    if (budget_bytes < (1ull << 20))
        throw InvalidSetting("trace budget must be at least 1 MiB (1048576 bytes), got " + std::to_string(budget_bytes) +
                             " bytes");
}

namespace {

template <typename T>
uint64_t vec_bytes(const std::vector<T>& v) {
    return static_cast<uint64_t>(v.capacity()) * sizeof(T);
}

uint64_t string_heap_bytes(const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;  // libstdc++ keeps up to 15 chars inline
}

bool same_view(const StoredLayerView& a, const StoredLayerView& b) {
    return a.held == b.held && a.slot_runs == b.slot_runs && a.roles == b.roles && a.evicted == b.evicted &&
           a.blocks == b.blocks && a.capacity == b.capacity && a.next_slot == b.next_slot;
}

std::string mib_text(uint64_t bytes) {
    if (bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

uint64_t stored_bytes(const StoredEntry& e) {
    uint64_t n = sizeof(StoredEntry);
    const StepSnapshot& m = e.meta;
    n += string_heap_bytes(m.text) + string_heap_bytes(m.policy) + vec_bytes(m.top) + vec_bytes(m.gqa_groups);
    for (const auto& g : m.gqa_groups) n += vec_bytes(g);
    if (m.reference) n += vec_bytes(m.reference->evicted_mass_per_layer) + vec_bytes(m.reference->cosine_per_layer_head);
    n += vec_bytes(e.views);
    for (const auto& v : e.views)
        n += vec_bytes(v.held) + vec_bytes(v.slot_runs) + vec_bytes(v.roles) + vec_bytes(v.evicted) + vec_bytes(v.blocks);
    n += vec_bytes(e.queries);
    for (const auto& q : e.queries) {
        n += vec_bytes(q.layers);
        for (const auto& l : q.layers) n += vec_bytes(l.keys) + vec_bytes(l.codes);
    }
    return n;
}

Trace::Trace(TraceHeader header, TraceOptions options) : header_(std::move(header)), options_(options) {
    header_.validate();
    options_.validate();
    // Middle layers 1 .. n_layer-2 ordered by distance from the centre (ties: lower first).
    const double centre = (header_.n_layer - 1) / 2.0;
    for (int32_t l = 1; l + 1 < header_.n_layer; ++l) interior_order_.push_back(l);
    std::stable_sort(interior_order_.begin(), interior_order_.end(),
                     [centre](int32_t a, int32_t b) { return std::abs(a - centre) < std::abs(b - centre); });
}

StoredEntry Trace::encode(const StepSnapshot& s, const char* what) const {
    const int64_t n_ctx = header_.n_ctx;
    const int64_t n_blocks = (n_ctx + kPageSize - 1) / kPageSize;
    auto fail = [&](const std::string& where, const std::string& why) {
        throw Error(std::string("trace: ") + what + " " + std::to_string(s.step) + " " + where + ": " + why);
    };
    auto runs = [&](const std::vector<int32_t>& values, int64_t limit, bool increasing, const std::string& where) {
        std::vector<int32_t> r = int_runs::encode(values);
        std::string problem = int_runs::check(r.data(), r.size(), limit, increasing);
        if (!problem.empty()) fail(where, problem);
        return r;
    };

    StoredEntry e;
    e.meta.step = s.step;
    e.meta.position = s.position;
    e.meta.token = s.token;
    e.meta.text = s.text;
    e.meta.top = s.top;
    e.meta.end_of_generation = s.end_of_generation;
    e.meta.chosen_logprob = s.chosen_logprob;
    e.meta.gqa_groups = s.gqa_groups;
    e.meta.memory = s.memory;
    e.meta.timings = s.timings;
    e.meta.reference = s.reference;
    e.meta.policy = s.policy;

    if (!s.layers.empty() && s.layers.size() != static_cast<size_t>(header_.n_layer))
        fail("cache views", std::to_string(s.layers.size()) + " layers, header says " + std::to_string(header_.n_layer));
    e.views.resize(s.layers.size());
    for (size_t l = 0; l < s.layers.size(); ++l) {
        const LayerCacheView& v = s.layers[l];
        const std::string where = "layer " + std::to_string(l);
        if (v.held_slots.size() != v.held_positions.size() || v.held_roles.size() != v.held_positions.size())
            fail(where, "held positions, slots and roles differ in length");
        StoredLayerView& sv = e.views[l];
        sv.held = runs(v.held_positions, n_ctx, true, where + " held positions");
        sv.slot_runs = runs(v.held_slots, n_ctx, false, where + " held slots");
        std::vector<int32_t> roles;  // [held]
        roles.reserve(v.held_roles.size());
        for (SlotRole r : v.held_roles) roles.push_back(static_cast<int32_t>(r));
        for (int32_t r : roles)
            if (r > static_cast<int32_t>(SlotRole::HeavyHitter)) fail(where, "unknown slot role " + std::to_string(r));
        sv.roles = int_runs::rle_encode(roles);
        sv.evicted = runs(v.evicted, n_ctx, false, where + " evicted");
        sv.blocks = runs(v.block_table, n_blocks, false, where + " block table");
        sv.capacity = v.capacity;
        sv.next_slot = v.next_slot;
        for (size_t k = 0; k < l; ++k) {
            if (e.views[k].same_as < 0 && same_view(e.views[k], sv)) {
                sv = StoredLayerView{};
                sv.same_as = static_cast<int32_t>(k);
                break;
            }
        }
    }

    e.queries.resize(s.attention.size());
    for (size_t q = 0; q < s.attention.size(); ++q) {
        const QueryAttention& qa = s.attention[q];
        StoredQuery& sq = e.queries[q];
        sq.position = qa.position;
        if (qa.layers.size() != static_cast<size_t>(header_.n_layer))
            fail("query " + std::to_string(q), std::to_string(qa.layers.size()) + " attention layers, header says " +
                                                   std::to_string(header_.n_layer));
        sq.layers.resize(qa.layers.size());
        for (size_t l = 0; l < qa.layers.size(); ++l) {
            const LayerAttention& la = qa.layers[l];
            const std::string where = "query " + std::to_string(q) + " layer " + std::to_string(l);
            sq.layers[l].keys = runs(la.key_positions, n_ctx, true, where + " key positions");
            const size_t expected = la.key_positions.size() * static_cast<size_t>(header_.n_head);
            if (!la.probs.empty() && la.probs.size() != expected)
                fail(where, std::to_string(la.probs.size()) + " probabilities, expected n_head x n_keys = " +
                                std::to_string(expected));
            std::vector<uint8_t>& codes = sq.layers[l].codes;  // [n_head][n_keys]
            codes.resize(la.probs.size());
            attention_codec::encode(la.probs.data(), la.probs.size(), codes.data());
        }
    }
    return e;
}

namespace {

LayerCacheView decode_view(const std::vector<StoredLayerView>& views, size_t layer) {
    const StoredLayerView* sv = &views[layer];
    if (sv->same_as >= 0) sv = &views[static_cast<size_t>(sv->same_as)];  // same_as always names a layer with data
    LayerCacheView v;
    v.held_positions = int_runs::decode(sv->held);
    v.held_slots = int_runs::decode(sv->slot_runs);
    for (int32_t r : int_runs::rle_decode(sv->roles)) v.held_roles.push_back(static_cast<SlotRole>(r));
    v.evicted = int_runs::decode(sv->evicted);
    v.block_table = int_runs::decode(sv->blocks);
    v.capacity = sv->capacity;
    v.next_slot = sv->next_slot;
    return v;
}

LayerAttention decode_attention(const StoredLayerAttention& sl) {
    LayerAttention la;
    la.key_positions = int_runs::decode(sl.keys);
    la.probs.resize(sl.codes.size());
    attention_codec::decode(sl.codes.data(), sl.codes.size(), la.probs.data());
    return la;
}

}  // namespace

StepSnapshot Trace::decode(const StoredEntry& e) const {
    StepSnapshot s = e.meta;
    s.layers.resize(e.views.size());
    for (size_t l = 0; l < e.views.size(); ++l) {
        const int32_t same = e.views[l].same_as;
        s.layers[l] = same >= 0 ? s.layers[static_cast<size_t>(same)] : decode_view(e.views, l);
    }
    set_native_windows(s.layers);
    s.attention.resize(e.queries.size());
    for (size_t q = 0; q < e.queries.size(); ++q) {
        QueryAttention& qa = s.attention[q];
        qa.position = e.queries[q].position;
        qa.layers.resize(e.queries[q].layers.size());
        for (size_t l = 0; l < qa.layers.size(); ++l) qa.layers[l] = decode_attention(e.queries[q].layers[l]);
    }
    return s;
}

void Trace::set_native_windows(std::vector<LayerCacheView>& views) const {
    // Not stored per step: a layer's window is the model's, in the header.
    if (header_.layer_windows.empty()) return;
    for (size_t l = 0; l < views.size() && l < header_.layer_windows.size(); ++l)
        views[l].native_window = header_.layer_windows[l];
}

const StoredEntry& Trace::entry_at(int64_t entry) const {
    if (entry == -1) {
        if (!prefill_) throw Error("trace: no prefill recorded");
        return *prefill_;
    }
    if (entry < 0 || static_cast<size_t>(entry) >= steps_.size())
        throw Error("trace: step " + std::to_string(entry) + " requested, the trace has " +
                    std::to_string(steps_.size()));
    return steps_[static_cast<size_t>(entry)];
}

StepSnapshot Trace::meta(int64_t entry) const { return entry_at(entry).meta; }

std::vector<LayerCacheView> Trace::views(int64_t entry) const {
    const StoredEntry& e = entry_at(entry);
    std::vector<LayerCacheView> out(e.views.size());
    for (size_t l = 0; l < e.views.size(); ++l) {
        const int32_t same = e.views[l].same_as;
        out[l] = same >= 0 ? out[static_cast<size_t>(same)] : decode_view(e.views, l);
    }
    set_native_windows(out);
    return out;
}

std::vector<QueryAttention> Trace::attention(int64_t entry, size_t max_queries) const {
    const StoredEntry& e = entry_at(entry);
    const size_t first = e.queries.size() > max_queries ? e.queries.size() - max_queries : 0;
    std::vector<QueryAttention> out(e.queries.size() - first);
    for (size_t q = first; q < e.queries.size(); ++q) {
        QueryAttention& qa = out[q - first];
        qa.position = e.queries[q].position;
        qa.layers.resize(e.queries[q].layers.size());
        for (size_t l = 0; l < qa.layers.size(); ++l) qa.layers[l] = decode_attention(e.queries[q].layers[l]);
    }
    return out;
}

size_t Trace::query_count(int64_t entry) const { return entry_at(entry).queries.size(); }

Trace::LayerSlice Trace::layer_slice(int64_t entry, int32_t layer) const {
    if (layer < 0 || layer >= header_.n_layer)
        throw InvalidSetting("trace: layer " + std::to_string(layer) + " outside 0.." +
                             std::to_string(header_.n_layer - 1));
    const StoredEntry& e = entry_at(entry);
    LayerSlice out;
    out.view = decode_view(e.views, static_cast<size_t>(layer));
    if (!header_.layer_windows.empty()) out.view.native_window = header_.layer_windows[static_cast<size_t>(layer)];
    out.queries.reserve(e.queries.size());
    for (const StoredQuery& q : e.queries)
        out.queries.emplace_back(q.position, decode_attention(q.layers[static_cast<size_t>(layer)]));
    return out;
}

void Trace::set_prefill(const StepSnapshot& snapshot) {
    StoredEntry e = encode(snapshot, "prefill");
    if (prefill_) throw Error("trace: the prefill is already set");
    if (!steps_.empty()) throw Error("trace: the prefill must be set before the first step");
    bytes_ += stored_bytes(e);
    prefill_ = std::move(e);
    enforce_budget();
}

StepSnapshot Trace::prefill() const {
    if (!prefill_) throw Error("trace: no prefill recorded");
    return decode(*prefill_);
}

void Trace::add(const StepSnapshot& snapshot) { add_prepared(prepare(snapshot)); }

Trace::Prepared Trace::prepare(const StepSnapshot& snapshot) const { return Prepared{encode(snapshot, "step")}; }

void Trace::add_prepared(Prepared prepared) {
    StoredEntry e = std::move(prepared.entry);
    const uint64_t n = stored_bytes(e);
    if (steps_.size() == steps_.capacity()) {
        // Account for the step table itself, which grows geometrically.
        bytes_ -= vec_bytes(steps_);
        steps_.reserve(std::max<size_t>(16, steps_.capacity() * 2));
        bytes_ += vec_bytes(steps_);
    }
    steps_.push_back(std::move(e));
    bytes_ += n - sizeof(StoredEntry);  // the entry's fixed part is counted in the step table
    enforce_budget();
}

StepSnapshot Trace::step(size_t i) const {
    if (i >= steps_.size())
        throw Error("trace: step " + std::to_string(i) + " requested, the trace has " + std::to_string(steps_.size()));
    return decode(steps_[i]);
}

bool Trace::attention_kept(size_t i, int32_t layer) const {
    const StoredEntry& e = steps_.at(i);
    if (e.queries.empty() || layer < 0 || layer >= header_.n_layer) return false;
    for (const StoredQuery& q : e.queries)
        if (q.layers[static_cast<size_t>(layer)].codes.empty()) return false;
    return true;
}

StoredEntry& Trace::entry(size_t g) {
    if (prefill_) return g == 0 ? *prefill_ : steps_[g - 1];
    return steps_[g];
}

bool Trace::drop_one(size_t& cursor, bool interior) {
    const size_t newest = n_entries() - 1;
    const int32_t last = header_.n_layer - 1;
    const std::vector<int32_t> edges = last > 0 ? std::vector<int32_t>{last, 0} : std::vector<int32_t>{0};
    const std::vector<int32_t>& order = interior ? interior_order_ : edges;
    for (; cursor < newest; ++cursor) {
        StoredEntry& e = entry(cursor);
        for (int32_t layer : order) {
            bool dropped = false;
            for (StoredQuery& q : e.queries) {
                std::vector<uint8_t>& codes = q.layers[static_cast<size_t>(layer)].codes;
                if (codes.capacity() == 0) continue;
                bytes_ -= vec_bytes(codes);
                std::vector<uint8_t>().swap(codes);
                dropped = true;
            }
            if (dropped) return true;
        }
    }
    return false;
}

void Trace::resume_budget() {
    if (budget_pauses_ > 0 && --budget_pauses_ == 0) enforce_budget();
}

void Trace::enforce_budget() {
    if (budget_pauses_ > 0 || bytes_ <= options_.budget_bytes) return;
    if (!reached_) {
        reached_ = true;
        reached_at_ = static_cast<int32_t>(steps_.size()) - 1;  // the step just added; -1 = the prefill
    }
    while (bytes_ > options_.budget_bytes) {
        if (drop_one(interior_cursor_, true)) continue;
        if (drop_one(edge_cursor_, false)) continue;
        break;  // only the newest entry's attention and the always-kept data remain
    }
}

void Trace::restore(std::optional<StoredEntry> prefill, std::vector<StoredEntry> steps, bool reached,
                    int32_t reached_at) {
    prefill_ = std::move(prefill);
    steps_ = std::move(steps);
    steps_.shrink_to_fit();
    reached_ = reached;
    reached_at_ = reached_at;
    interior_cursor_ = edge_cursor_ = 0;
    bytes_ = vec_bytes(steps_) + (prefill_ ? stored_bytes(*prefill_) : 0);
    for (const StoredEntry& e : steps_) bytes_ += stored_bytes(e) - sizeof(StoredEntry);
}

std::string Trace::budget_message() const {
    if (!reached_) return "";
    const int32_t last = header_.n_layer - 1;
    // Entries (oldest first) that lost some middle layer / every layer.
    std::vector<size_t> some, all;
    for (size_t g = 0; g < n_entries(); ++g) {
        const StoredEntry& e = (prefill_ && g == 0) ? *prefill_ : steps_[g - (prefill_ ? 1 : 0)];
        if (e.queries.empty()) continue;
        int32_t dropped = 0;
        for (int32_t l = 0; l <= last; ++l)
            if (e.queries.front().layers[static_cast<size_t>(l)].codes.empty()) ++dropped;
        if (dropped == last + 1) all.push_back(g);
        else if (dropped > 0) some.push_back(g);
    }
    auto name = [&](size_t g) {
        if (prefill_ && g == 0) return std::string("the prompt");
        return "step " + std::to_string(g - (prefill_ ? 1 : 0));
    };
    auto range = [&](const std::vector<size_t>& v) {
        return v.size() == 1 ? name(v.front()) : name(v.front()) + " to " + name(v.back());
    };
    std::string msg = "trace memory budget of " + mib_text(options_.budget_bytes) + " reached at " +
                      (reached_at_ < 0 ? std::string("the prompt") : "step " + std::to_string(reached_at_));
    msg += ": ";
    if (some.empty() && all.empty()) msg += "nothing could be dropped (only the newest step holds attention)";
    if (!some.empty())
        msg += "middle-layer attention dropped for " + std::to_string(some.size()) + " entries (" + range(some) +
               ", layers 0 and " + std::to_string(last) + " kept)";
    if (!all.empty())
        msg += std::string(some.empty() ? "" : "; ") + "all attention dropped for " + std::to_string(all.size()) +
               " entries (" + range(all) + ")";
    msg += "; tokens, top-k, metrics, memory and cache maps of all " + std::to_string(steps_.size()) + " steps kept";
    return msg;
}

}  // namespace kvscope
