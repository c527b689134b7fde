#include "session/trace_json.h"

#include <cmath>

#include "session/int_runs.h"
#include "util/error.h"

namespace kvscope::trace_detail {
namespace {
using nlohmann::json;

constexpr int kFormatVersion = 1;

// Doubles round-trip through JSON numbers; non-finite ones become strings.
json num(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}
double get_num(const json& j) {
    if (j.is_string()) {
        const std::string s = j.get<std::string>();
        if (s == "nan") return std::nan("");
        if (s == "inf") return INFINITY;
        if (s == "-inf") return -INFINITY;
        throw Error("number expected, got \"" + s + "\"");
    }
    return j.get<double>();
}

bool valid_utf8(const std::string& s) {
    try {
        (void)json(s).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}
// Token texts may be partial UTF-8 sequences: those are kept as {"hex": ...}.
json text_json(const std::string& s) {
    if (valid_utf8(s)) return s;
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : s) {
        hex += digits[c >> 4];
        hex += digits[c & 15];
    }
    return json{{"hex", hex}};
}
std::string get_text(const json& j) {
    if (j.is_string()) return j.get<std::string>();
    const std::string hex = j.at("hex").get<std::string>();
    if (hex.size() % 2) throw Error("odd-length hex text");
    std::string s;
    for (size_t i = 0; i < hex.size(); i += 2) s += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return s;
}

const char* kv_type_name(KvValueType t) {
    switch (t) {
        case KvValueType::F32: return "f32";
        case KvValueType::F16: return "f16";
        case KvValueType::Q8_0: return "q8_0";
    }
    return "?";
}
KvValueType kv_type_from(const std::string& s) {
    for (KvValueType t : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0})
        if (s == kv_type_name(t)) return t;
    throw Error("unknown kv_type \"" + s + "\"");
}
const char* position_mode_name_(PositionMode m) { return m == PositionMode::InCache ? "in-cache" : "original"; }
PositionMode position_mode_from(const std::string& s) {
    if (s == "original") return PositionMode::Original;
    if (s == "in-cache") return PositionMode::InCache;
    throw Error("unknown position mode \"" + s + "\"");
}

json header_json(const TraceHeader& h) {
    json texts = json::array();
    for (const auto& t : h.prompt_texts) texts.push_back(text_json(t));
    json out = {{"model_name", h.model_name}, {"model_path", h.model_path}, {"n_layer", h.n_layer}, {"n_head", h.n_head},
            {"n_head_kv", h.n_head_kv}, {"head_dim", h.head_dim}, {"n_ctx", h.n_ctx},
            {"prompt_tokens", h.prompt_tokens}, {"prompt_texts", texts}, {"policy", h.policy},
            {"kv_type", kv_type_name(h.kv_type)}, {"positions", position_mode_name_(h.positions)},
            {"sampling", {{"temperature", num(h.sampling.temperature)}, {"top_k", h.sampling.top_k},
                          {"top_p", num(h.sampling.top_p)}, {"seed", h.sampling.seed}}},
            {"tool_version", h.tool_version}};
    if (!h.app_state.empty()) out["app_state"] = h.app_state;
    out["backend"] = h.backend;
    if (!h.layer_windows.empty()) out["layer_windows"] = h.layer_windows;
    return out;
}

TraceHeader header_from(const json& j) {
    TraceHeader h;
    h.model_name = j.at("model_name").get<std::string>();
    h.model_path = j.at("model_path").get<std::string>();
    h.n_layer = j.at("n_layer").get<int32_t>();
    h.n_head = j.at("n_head").get<int32_t>();
    h.n_head_kv = j.at("n_head_kv").get<int32_t>();
    h.head_dim = j.at("head_dim").get<int32_t>();
    h.n_ctx = j.at("n_ctx").get<int32_t>();
    h.prompt_tokens = j.at("prompt_tokens").get<std::vector<int32_t>>();
    for (const auto& t : j.at("prompt_texts")) h.prompt_texts.push_back(get_text(t));
    h.policy = j.at("policy").get<std::string>();
    h.kv_type = kv_type_from(j.at("kv_type").get<std::string>());
    h.positions = position_mode_from(j.at("positions").get<std::string>());
    const json& s = j.at("sampling");
    h.sampling.temperature = static_cast<float>(get_num(s.at("temperature")));
    h.sampling.top_k = s.at("top_k").get<int32_t>();
    h.sampling.top_p = static_cast<float>(get_num(s.at("top_p")));
    h.sampling.seed = s.at("seed").get<uint64_t>();
    h.tool_version = j.at("tool_version").get<std::string>();
    if (j.contains("app_state")) h.app_state = j.at("app_state").get<std::map<std::string, std::string>>();
    if (j.contains("backend")) h.backend = j.at("backend").get<std::string>();  // older traces: the CPU
    if (j.contains("layer_windows")) h.layer_windows = j.at("layer_windows").get<std::vector<int32_t>>();  // older: none
    h.validate();
    return h;
}

json view_json(const StoredLayerView& v) {
    if (v.same_as >= 0) return {{"same_as", v.same_as}};
    return {{"held", v.held}, {"slots", v.slot_runs}, {"roles", v.roles}, {"evicted", v.evicted},
            {"blocks", v.blocks}, {"capacity", v.capacity}, {"next_slot", v.next_slot}};
}

// `fed`: one past the entry's position. A cache holds and evicts only positions
// already fed, so that bounds what a view from a file may claim (and what
// decoding it allocates).
StoredLayerView view_from(const json& j, size_t layer, const TraceHeader& h, int64_t fed) {
    StoredLayerView v;
    if (j.contains("same_as")) {
        v.same_as = j.at("same_as").get<int32_t>();
        if (v.same_as < 0 || static_cast<size_t>(v.same_as) >= layer)
            throw Error("layer " + std::to_string(layer) + ": same_as " + std::to_string(v.same_as) + " is not an earlier layer");
        return v;
    }
    auto runs = [&](const char* key, int64_t limit, bool increasing) {
        std::vector<int32_t> r = j.at(key).get<std::vector<int32_t>>();
        const std::string problem = int_runs::check(r.data(), r.size(), limit, increasing);
        if (!problem.empty()) throw Error("layer " + std::to_string(layer) + " " + key + ": " + problem);
        return r;
    };
    v.held = runs("held", fed, true);
    v.slot_runs = runs("slots", h.n_ctx, false);
    v.evicted = runs("evicted", fed, false);
    v.blocks = runs("blocks", (h.n_ctx + kPageSize - 1) / kPageSize, false);
    v.roles = j.at("roles").get<std::vector<int32_t>>();
    std::string problem = int_runs::rle_check(v.roles, static_cast<int32_t>(SlotRole::HeavyHitter) + 1, h.n_ctx);
    if (!problem.empty()) throw Error("layer " + std::to_string(layer) + " roles: " + problem);
    const int64_t held = int_runs::length(v.held);
    if (int_runs::length(v.slot_runs) != held || int_runs::length(v.roles) != held)
        throw Error("layer " + std::to_string(layer) + ": held positions, slots and roles differ in length");
    v.capacity = j.at("capacity").get<int32_t>();
    v.next_slot = j.at("next_slot").get<int32_t>();
    return v;
}

json entry_json(const StoredEntry& e) {
    const StepSnapshot& m = e.meta;
    json top = json::array();
    for (const TokenCandidate& c : m.top) top.push_back({c.id, num(c.logit), num(c.probability)});
    json views = json::array();
    for (const StoredLayerView& v : e.views) views.push_back(view_json(v));
    const MemoryFigures& mem = m.memory;
    const StepTimings& t = m.timings;
    json reference = nullptr;
    if (m.reference) {
        const ReferenceMetrics& r = *m.reference;
        json per_layer = json::array(), per_head = json::array();
        for (double v : r.evicted_mass_per_layer) per_layer.push_back(num(v));
        for (double v : r.cosine_per_layer_head) per_head.push_back(num(v));
        reference = {{"kl_full_policy", num(r.kl_full_policy)}, {"top1_agrees", r.top1_agrees},
                     {"evicted_attention_mass", num(r.evicted_attention_mass)},
                     {"attention_cosine", num(r.attention_cosine)}, {"evicted_mass_per_layer", per_layer},
                     {"cosine_per_layer_head", per_head}};
    }
    return {{"step", m.step}, {"position", m.position}, {"token", m.token}, {"text", text_json(m.text)},
            {"top", top}, {"end_of_generation", m.end_of_generation}, {"chosen_logprob", num(m.chosen_logprob)},
            {"gqa_groups", m.gqa_groups},
            {"memory", {{"kv_bytes", mem.kv_bytes}, {"kv_full_bytes", mem.kv_full_bytes},
                        {"weights_bytes", mem.weights_bytes}, {"scratch_bytes", mem.scratch_bytes},
                        {"process_rss", mem.process_rss}, {"device_used", mem.device_used},
                        {"device_total", mem.device_total}, {"device_is_host", mem.device_is_host}}},
            {"timings", {{"policy_ms", num(t.policy_ms)}, {"forward_ms", num(t.forward_ms)},
                         {"capture_ms", num(t.capture_ms)}, {"sample_ms", num(t.sample_ms)},
                         {"reference_ms", num(t.reference_ms)}}},
            {"reference", reference}, {"policy", m.policy}, {"layers", views}};
}

StoredEntry entry_from(const json& j, const TraceHeader& h) {
    StoredEntry e;
    StepSnapshot& m = e.meta;
    m.step = j.at("step").get<int32_t>();
    m.position = j.at("position").get<int32_t>();
    m.token = j.at("token").get<int32_t>();
    m.text = get_text(j.at("text"));
    for (const json& c : j.at("top")) {
        if (!c.is_array() || c.size() != 3) throw Error("top-k candidate is not [id, logit, probability]");
        m.top.push_back({c[0].get<int32_t>(), static_cast<float>(get_num(c[1])), static_cast<float>(get_num(c[2]))});
    }
    m.end_of_generation = j.at("end_of_generation").get<bool>();
    m.chosen_logprob = static_cast<float>(get_num(j.at("chosen_logprob")));
    if (m.position < 0 || m.position >= h.n_ctx)
        throw Error("position " + std::to_string(m.position) + " outside the context 0.." + std::to_string(h.n_ctx - 1));
    m.gqa_groups = j.at("gqa_groups").get<std::vector<std::vector<int32_t>>>();
    // [n_head_kv] groups of query heads (or none): each head once, in range.
    if (m.gqa_groups.size() > static_cast<size_t>(h.n_head_kv))
        throw Error(std::to_string(m.gqa_groups.size()) + " GQA groups, header says " + std::to_string(h.n_head_kv) + " KV heads");
    size_t grouped = 0;
    for (const auto& g : m.gqa_groups) {
        grouped += g.size();
        for (int32_t head : g)
            if (head < 0 || head >= h.n_head)
                throw Error("GQA group head " + std::to_string(head) + " outside 0.." + std::to_string(h.n_head - 1));
    }
    if (grouped > static_cast<size_t>(h.n_head)) throw Error("GQA groups name " + std::to_string(grouped) + " heads, header says " + std::to_string(h.n_head));
    const json& mem = j.at("memory");
    m.memory.kv_bytes = mem.at("kv_bytes").get<uint64_t>();
    m.memory.kv_full_bytes = mem.at("kv_full_bytes").get<uint64_t>();
    m.memory.weights_bytes = mem.at("weights_bytes").get<uint64_t>();
    m.memory.scratch_bytes = mem.at("scratch_bytes").get<uint64_t>();
    m.memory.process_rss = mem.at("process_rss").get<uint64_t>();
    m.memory.device_used = mem.at("device_used").get<uint64_t>();
    m.memory.device_total = mem.at("device_total").get<uint64_t>();
    m.memory.device_is_host = mem.at("device_is_host").get<bool>();
    const json& t = j.at("timings");
    m.timings.policy_ms = get_num(t.at("policy_ms"));
    m.timings.forward_ms = get_num(t.at("forward_ms"));
    m.timings.capture_ms = get_num(t.at("capture_ms"));
    m.timings.sample_ms = get_num(t.at("sample_ms"));
    m.timings.reference_ms = get_num(t.at("reference_ms"));
    const json& r = j.at("reference");
    if (!r.is_null()) {
        ReferenceMetrics ref;
        ref.kl_full_policy = get_num(r.at("kl_full_policy"));
        ref.top1_agrees = r.at("top1_agrees").get<bool>();
        ref.evicted_attention_mass = get_num(r.at("evicted_attention_mass"));
        ref.attention_cosine = get_num(r.at("attention_cosine"));
        for (const json& v : r.at("evicted_mass_per_layer")) ref.evicted_mass_per_layer.push_back(get_num(v));
        for (const json& v : r.at("cosine_per_layer_head")) ref.cosine_per_layer_head.push_back(get_num(v));
        const size_t n_layer = static_cast<size_t>(h.n_layer), n_head = static_cast<size_t>(h.n_head);
        if (!ref.evicted_mass_per_layer.empty() && ref.evicted_mass_per_layer.size() != n_layer)
            throw Error("reference: " + std::to_string(ref.evicted_mass_per_layer.size()) + " per-layer masses for " +
                        std::to_string(n_layer) + " layers");
        if (!ref.cosine_per_layer_head.empty() && ref.cosine_per_layer_head.size() != n_layer * n_head)
            throw Error("reference: " + std::to_string(ref.cosine_per_layer_head.size()) + " cosines for " +
                        std::to_string(n_layer) + " layers x " + std::to_string(n_head) + " heads");
        m.reference = std::move(ref);
    }
    m.policy = j.at("policy").get<std::string>();
    const json& layers = j.at("layers");
    if (!layers.empty() && layers.size() != static_cast<size_t>(h.n_layer))
        throw Error(std::to_string(layers.size()) + " cache views, header says " + std::to_string(h.n_layer) + " layers");
    for (size_t l = 0; l < layers.size(); ++l) e.views.push_back(view_from(layers[l], l, h, int64_t{m.position} + 1));
    return e;
}
}  // namespace

json trace_to_json(const Trace& trace) {
    json j = trace_to_json_without_steps(trace);
    json& steps = j["steps"];
    for (size_t i = 0; i < trace.size(); ++i) steps.push_back(entry_json(trace.stored_step(i)));
    return j;
}

json trace_to_json_without_steps(const Trace& trace) {
    return {{"format", "kvscope-trace"},
            {"version", kFormatVersion},
            {"header", header_json(trace.header())},
            {"budget", {{"bytes", trace.options().budget_bytes}, {"reached", trace.budget_reached()},
                        {"reached_at", trace.budget_reached_at()}, {"message", trace.budget_message()}}},
            {"prefill", trace.stored_prefill() ? entry_json(*trace.stored_prefill()) : json(nullptr)},
            {"steps", json::array()}};
}

json entry_to_json(const StoredEntry& entry) { return entry_json(entry); }

ParsedTrace trace_from_json(const json& j) {
    if (!j.is_object() || j.value("format", "") != "kvscope-trace") throw Error("not a kvscope trace (no \"format\": \"kvscope-trace\")");
    const int version = j.at("version").get<int>();
    if (version != kFormatVersion) throw Error("unsupported trace version " + std::to_string(version));
    ParsedTrace p;
    p.header = header_from(j.at("header"));
    const json& b = j.at("budget");
    p.options.budget_bytes = b.at("bytes").get<uint64_t>();
    p.options.validate();
    p.reached = b.at("reached").get<bool>();
    p.reached_at = b.at("reached_at").get<int32_t>();
    if (!j.at("prefill").is_null()) p.prefill = entry_from(j.at("prefill"), p.header);
    const json& steps = j.at("steps");
    if (!steps.is_array()) throw Error("\"steps\" is not an array");
    p.steps.reserve(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
        try {
            p.steps.push_back(entry_from(steps[i], p.header));
            // Steps follow each other: the views index them by number and position.
            const StepSnapshot& m = p.steps.back().meta;
            if (m.step != static_cast<int32_t>(i)) throw Error("numbered " + std::to_string(m.step));
            if (i > 0 && m.position != p.steps[i - 1].meta.position + 1)
                throw Error("position " + std::to_string(m.position) + " does not follow the previous step's " +
                            std::to_string(p.steps[i - 1].meta.position));
        } catch (const std::exception& e) {
            throw Error("step " + std::to_string(i) + ": " + e.what());
        }
    }
    // A session feeds its prompt and then one token per step: no entry can be
    // at a later position. (This also bounds what decoding a file's cache
    // views may allocate by the file's own size.)
    const int64_t fed = static_cast<int64_t>(p.header.prompt_tokens.size()) + static_cast<int64_t>(p.steps.size());
    auto check_fed = [&](const StoredEntry& e) {
        if (e.meta.position > fed)
            throw Error("position " + std::to_string(e.meta.position) + " is past the " + std::to_string(fed) +
                        " tokens a " + std::to_string(p.header.prompt_tokens.size()) + "-token prompt and " +
                        std::to_string(p.steps.size()) + " steps feed");
    };
    if (p.prefill) check_fed(*p.prefill);
    if (!p.steps.empty()) check_fed(p.steps.back());  // the steps are consecutive: the last is the furthest
    if (p.prefill && !p.steps.empty() && p.prefill->meta.position >= p.steps.front().meta.position)
        throw Error("the prompt's position " + std::to_string(p.prefill->meta.position) + " is not before step 0's " +
                    std::to_string(p.steps.front().meta.position));
    return p;
}

}  // namespace kvscope::trace_detail
