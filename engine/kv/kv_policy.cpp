#include "kv/kv_policy.h"

#include <algorithm>
#include <climits>
#include <iterator>
#include <numeric>
#include <sstream>

#include "kv/policy_registry.h"
#include "util/error.h"

namespace kvscope {
namespace {

std::string range_message(const std::string& setting, int64_t lo, int64_t hi, int64_t got, const std::string& why = "") {
    return setting + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + (why.empty() ? "" : " (" + why + ")") +
           ", got " + std::to_string(got);
}

bool is_pinned(const PolicyConfig& c, int32_t p) {
    return c.pins.count(p) != 0 || (c.pin_every > 0 && p % c.pin_every == 0);
}

}  // namespace

const char* policy_kind_name(PolicyKind k) { return policy_info(k).name; }

PolicyKind parse_policy_kind(const std::string& s) {
    for (const PolicyInfo& info : policy_registry())
        if (s == info.name) return info.kind;
    throw InvalidSetting("policy must be one of " + policy_names_text() + "; got '" + s + "'");
}



void PolicyConfig::validate(int32_t n_ctx, int32_t n_layer, int32_t text_length) const {
    const bool windowed = kind == PolicyKind::Window || kind == PolicyKind::SinksWindow || kind == PolicyKind::Global;
    if (windowed && dynamic.empty()) {
        const int32_t lo = kind == PolicyKind::SinksWindow ? 2 : 1;
        if (window < lo || window > n_ctx)
            throw InvalidSetting(range_message("window W", lo, n_ctx, window, "the context length is " + std::to_string(n_ctx)));
    }
    if (kind == PolicyKind::SinksWindow) {
        const int32_t w = dynamic.empty() ? window : window_at(INT32_MAX);
        if (sinks < 0 || (w > 0 && sinks >= w))
            throw InvalidSetting(range_message("sinks S", 0, std::max(0, w - 1), sinks, "S must be smaller than the window W = " + std::to_string(w)));
    }
    if (kind == PolicyKind::Global) {
        // Global sinks are kept on top of the window (they need not lie inside the text yet).
        if (sinks < 0 || sinks > n_ctx) throw InvalidSetting(range_message("sinks S", 0, n_ctx, sinks));
        for (int32_t p : pins)
            if (p < 0 || p >= text_length)
                throw InvalidSetting(range_message("pinned position", 0, std::max(0, text_length - 1), p,
                                                   "the text has " + std::to_string(text_length) + " positions"));
        if (pin_every < 0 || pin_every > n_ctx) throw InvalidSetting(range_message("pin-every k", 0, n_ctx, pin_every, "0 = off"));
    } else if (!pins.empty() || pin_every != 0 || pin_separators) {
        throw InvalidSetting(std::string("pins apply to the global policy only (policy is ") + policy_kind_name(kind) + ")");
    }
    if (budget_percent != 0) {
        if (kind != PolicyKind::H2O && !is_budget_by_score(kind))
            throw InvalidSetting(std::string("a budget in percent applies to h2o, tova, knorm and keydiff (policy is ") +
                                 policy_kind_name(kind) + ")");
        if (budget_percent < 1 || budget_percent > 100)
            throw InvalidSetting(range_message("budget in percent", 1, 100, budget_percent, "of the positions seen"));
    }
    if (kind == PolicyKind::H2O && budget_percent == 0) {
        if (h2o_heavy < 0) throw InvalidSetting(range_message("h2o heavy hitters H", 0, n_ctx - 1, h2o_heavy));
        if (h2o_recent < 1) throw InvalidSetting(range_message("h2o recent R", 1, n_ctx, h2o_recent));
        if (static_cast<int64_t>(h2o_heavy) + h2o_recent > n_ctx)
            throw InvalidSetting(range_message("h2o H + R", 2, n_ctx, int64_t{h2o_heavy} + h2o_recent, "the cache capacity"));
    }
    if (is_budget_by_score(kind) && budget_percent == 0 && (budget < 1 || budget > n_ctx))
        throw InvalidSetting(range_message("budget B", 1, n_ctx, budget, "the context length is " + std::to_string(n_ctx)));
    if (full_every < 0 || full_every > n_layer)
        throw InvalidSetting(range_message("layer pattern (every k-th layer full)", 0, n_layer, full_every, "0 = off"));
    if (!dynamic.empty()) {
        if (!windowed) throw InvalidSetting("a dynamic window needs the window, sinks or global policy");
        int32_t previous = 0;
        for (const auto& step : dynamic) {
            if (step.below <= previous)
                throw InvalidSetting("dynamic window steps must have increasing lengths, got " + std::to_string(step.below) +
                                     " after " + std::to_string(previous));
            if (step.window < 0 || step.window > n_ctx)
                throw InvalidSetting(range_message("dynamic window size", 0, n_ctx, step.window, "0 = full"));
            if (kind == PolicyKind::SinksWindow && step.window != 0 && step.window <= sinks)
                throw InvalidSetting("dynamic window size " + std::to_string(step.window) + " must exceed the sinks S = " +
                                     std::to_string(sinks));
            previous = step.below;
        }
    }
}

int32_t PolicyConfig::budget_at(int32_t next) const {
    if (budget_percent == 0) return budget;
    const int64_t seen = int64_t{next} + 1;  // the new position included
    return static_cast<int32_t>(std::max<int64_t>(1, (int64_t{budget_percent} * seen + 99) / 100));
}

std::pair<int32_t, int32_t> PolicyConfig::h2o_at(int32_t next) const {
    if (budget_percent == 0) return {h2o_heavy, h2o_recent};
    const int32_t b = budget_at(next);
    return {b / 2, b - b / 2};
}

int32_t PolicyConfig::window_at(int32_t length) const {
    if (dynamic.empty()) return window;
    for (const auto& step : dynamic)
        if (length < step.below) return step.window;
    return dynamic.back().window;
}

bool PolicyConfig::layer_is_full(int32_t layer) const {
    if (kind == PolicyKind::Full) return true;
    return full_every > 0 && (layer + 1) % full_every == 0;
}

int32_t PolicyConfig::layer_capacity(int32_t layer, int32_t n_ctx) const {
    if (layer_is_full(layer)) return n_ctx;
    int64_t cap = n_ctx;
    switch (kind) {
        case PolicyKind::Full: break;
        case PolicyKind::Window:
        case PolicyKind::SinksWindow:
        case PolicyKind::Global: {
            int32_t w = window;
            for (const auto& step : dynamic) w = step.window == 0 ? n_ctx : std::max(w, step.window);
            cap = w;
            if (kind == PolicyKind::Global)
                cap += static_cast<int64_t>(sinks) + static_cast<int64_t>(pins.size()) + (pin_every > 0 ? n_ctx / pin_every + 1 : 0);
            if (kind == PolicyKind::Global && pin_separators) cap = n_ctx;  // as many as the text has
            break;
        }
        case PolicyKind::H2O: cap = budget_percent ? budget_at(n_ctx - 1) : int64_t{h2o_heavy} + h2o_recent; break;
        case PolicyKind::Tova:
        case PolicyKind::Knorm:
        case PolicyKind::KeyDiff: cap = budget_at(n_ctx - 1); break;
    }
    return static_cast<int32_t>(std::min<int64_t>(cap, n_ctx));
}

std::string PolicyConfig::describe() const {
    // Built with << rather than string + string: GCC 12 at -O3 warns (-Wrestrict)
    // on some chains of operator+ (a false positive, but the build uses -Werror).
    std::ostringstream s;
    switch (kind) {
        case PolicyKind::Full: s << "full"; break;
        case PolicyKind::Window: s << "window(" << window << ")"; break;
        case PolicyKind::SinksWindow: s << "sinks(" << sinks << ")+window(" << window << ")"; break;
        case PolicyKind::Global:
            s << "global(";
            if (sinks) s << sinks << " sinks, ";
            s << pins.size() << " pins";
            if (pin_every) s << ", every " << pin_every;
            if (pin_separators) s << ", separators";
            s << ")+window(" << window << ")";
            break;
        case PolicyKind::H2O:
            if (budget_percent) s << "h2o(" << budget_percent << "%)";
            else s << "h2o(" << h2o_heavy << "," << h2o_recent << ")";
            break;
        case PolicyKind::Tova:
        case PolicyKind::Knorm:
        case PolicyKind::KeyDiff:
            s << policy_kind_name(kind) << "(";
            if (budget_percent) s << budget_percent << "%";
            else s << budget;
            s << ")";
            break;
    }
    if (!dynamic.empty()) {
        s << " dynamic[";
        for (size_t i = 0; i < dynamic.size(); ++i) {
            if (i) s << ",";
            if (dynamic[i].below != INT32_MAX) s << dynamic[i].below << ":";
            if (dynamic[i].window == 0) s << "full";
            else s << dynamic[i].window;
        }
        s << "]";
    }
    if (full_every > 0) s << " full-every-" << full_every;
    s << " " << kv_value_type_name(kv_type) << " " << position_mode_name(positions);
    return s.str();
}

std::vector<int32_t> positions_to_evict(const PolicyConfig& c, int32_t layer, const std::vector<int32_t>& held,
                                        const std::vector<double>& score, int32_t next) {
    std::vector<int32_t> out;
    if (c.layer_is_full(layer)) return out;
    if (c.kind == PolicyKind::H2O) {
        // The R most recent positions (the new one included) stay; of the
        // others, the H with the most accumulated attention stay (ties: older first).
        const auto [heavy, recent] = c.h2o_at(next);
        const int32_t first_recent = next - recent + 1;
        std::vector<size_t> older;
        for (size_t i = 0; i < held.size(); ++i)
            if (held[i] < first_recent) older.push_back(i);
        if (static_cast<int32_t>(older.size()) <= heavy) return out;
        std::stable_sort(older.begin(), older.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
        for (size_t k = static_cast<size_t>(heavy); k < older.size(); ++k) out.push_back(held[older[k]]);
        std::sort(out.begin(), out.end());
        return out;
    }
    if (is_budget_by_score(c.kind)) {
        // Room for the new position: the held.size() − (B − 1) lowest scores
        // go (ties: older first), so the layer holds B with `next` stored.
        const int64_t excess = static_cast<int64_t>(held.size()) - (c.budget_at(next) - 1);
        if (excess <= 0) return out;
        std::vector<size_t> order(held.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
        for (int64_t k = 0; k < excess; ++k) out.push_back(held[order[static_cast<size_t>(k)]]);
        std::sort(out.begin(), out.end());
        return out;
    }
    const int32_t w = c.window_at(next + 1);
    if (w == 0) return out;  // the dynamic window is full at this length
    const int32_t recent = c.kind == PolicyKind::SinksWindow ? w - c.sinks : w;
    const int32_t first_recent = next - recent + 1;
    for (int32_t p : held) {
        if (p >= first_recent) continue;
        if (c.kind == PolicyKind::SinksWindow && p < c.sinks) continue;
        if (c.kind == PolicyKind::Global && (p < c.sinks || is_pinned(c, p))) continue;
        out.push_back(p);
    }
    return out;
}

bool is_budget_by_score(PolicyKind kind) {
    return kind == PolicyKind::Tova || kind == PolicyKind::Knorm || kind == PolicyKind::KeyDiff;
}

std::vector<int32_t> outside_native_window(const std::vector<int32_t>& held, int32_t next, int32_t native_window) {
    std::vector<int32_t> out;
    if (native_window <= 0) return out;
    const int64_t last_unseen = int64_t{next} - native_window;  // the query at `next` sees p > next - window
    for (int32_t p : held) {
        if (p > last_unseen) break;  // held is increasing
        out.push_back(p);
    }
    return out;
}

std::vector<int32_t> positions_to_evict(const PolicyConfig& config, int32_t layer, const std::vector<int32_t>& held,
                                        const std::vector<double>& attention_score, int32_t next, int32_t native_window) {
    std::vector<int32_t> by_policy = positions_to_evict(config, layer, held, attention_score, next);
    if (native_window <= 0) return by_policy;
    std::vector<int32_t> out, by_window = outside_native_window(held, next, native_window);
    std::set_union(by_policy.begin(), by_policy.end(), by_window.begin(), by_window.end(), std::back_inserter(out));
    return out;
}

int32_t layer_capacity_with_native(const PolicyConfig& config, int32_t layer, int32_t n_ctx, int32_t native_window) {
    const int32_t by_policy = config.layer_capacity(layer, n_ctx);
    return native_window > 0 ? std::min(by_policy, native_window) : by_policy;
}

std::vector<SlotRole> position_roles(const PolicyConfig& c, int32_t layer, const std::vector<int32_t>& held,
                                     const std::vector<double>& /*score*/) {
    std::vector<SlotRole> roles(held.size(), SlotRole::Window);
    if (c.layer_is_full(layer) || held.empty()) return roles;
    const int32_t last = held.back();
    for (size_t i = 0; i < held.size(); ++i) {
        const int32_t p = held[i];
        if ((c.kind == PolicyKind::SinksWindow || c.kind == PolicyKind::Global) && p < c.sinks) roles[i] = SlotRole::Sink;
        else if (c.kind == PolicyKind::Global && is_pinned(c, p)) roles[i] = SlotRole::Global;
        else if (c.kind == PolicyKind::H2O && p <= last - c.h2o_at(last).second) roles[i] = SlotRole::HeavyHitter;
        else if (is_budget_by_score(c.kind) && p != last) roles[i] = SlotRole::HeavyHitter;  // kept by its score
    }
    return roles;
}

}  // namespace kvscope
