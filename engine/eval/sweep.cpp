#include "eval/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "kv/kv_policy.h"
#include "kv/policy_registry.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace kvscope {
namespace {

bool contains(const std::vector<PolicyKind>& v, PolicyKind k) { return std::find(v.begin(), v.end(), k) != v.end(); }

SweepRow row_for(PolicyKind kind, int32_t window, int32_t sinks, KvValueType kv, PositionMode positions) {
    SweepRow row;
    row.policy.kind = kind;
    row.policy.window = window;
    row.policy.sinks = sinks;
    row.policy.kv_type = kv;
    row.policy.positions = positions;
    return row;
}

void check_grid(const SweepGrid& grid) {
    if (grid.policies.empty()) throw InvalidSetting("the sweep has no policy");
    if (grid.kv_types.empty()) throw InvalidSetting("the sweep has no KV value type");
    for (PolicyKind k : grid.policies)
        if (!policy_info(k).sweepable)
            throw InvalidSetting(std::string("the sweep runs the policies ") + sweep_policy_names() + ", not " +
                                 policy_kind_name(k));
    const bool sized = std::any_of(grid.policies.begin(), grid.policies.end(), [](PolicyKind k) { return k != PolicyKind::Full; });
    if (sized && grid.windows.empty())
        throw InvalidSetting("the sweep needs at least one window (the budget of h2o, tova, knorm, keydiff) for every policy but full");
    for (int32_t w : grid.windows)
        if (w < 1) throw InvalidSetting("sweep windows must be at least 1, got " + std::to_string(w));
    if (contains(grid.policies, PolicyKind::SinksWindow) && grid.sinks.empty())
        throw InvalidSetting("the sweep needs at least one sink count for sinks");
    for (int32_t s : grid.sinks)
        if (s < 0) throw InvalidSetting("sweep sink counts must be at least 0, got " + std::to_string(s));
}

std::string number(double v, int precision) {
    if (std::isnan(v)) return "";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return buf;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace

std::vector<PolicyKind> sweep_policies() {
    std::vector<PolicyKind> out;
    for (const PolicyInfo& info : policy_registry())
        if (info.sweepable) out.push_back(info.kind);
    return out;
}

std::string sweep_policy_names() {
    std::string s;
    for (PolicyKind k : sweep_policies()) s += (s.empty() ? "" : ", ") + std::string(policy_kind_name(k));
    return s;
}

int32_t sweep_size(const PolicyConfig& policy) {
    switch (policy.kind) {
        case PolicyKind::Tova:
        case PolicyKind::Knorm:
        case PolicyKind::KeyDiff: return policy.budget;
        case PolicyKind::H2O: return policy.h2o_heavy + policy.h2o_recent;
        default: return policy.window;
    }
}

std::vector<SweepRow> sweep_plan(const SweepGrid& grid) {
    check_grid(grid);
    const bool has_window = contains(grid.policies, PolicyKind::Window);
    std::vector<SweepRow> rows;
    for (PolicyKind kind : grid.policies) {
        for (KvValueType kv : grid.kv_types) {
            if (kind == PolicyKind::Full) {
                rows.push_back(row_for(kind, 0, 0, kv, grid.positions));
                continue;
            }
            for (int32_t w : grid.windows) {
                if (is_budget_by_score(kind) || kind == PolicyKind::H2O) {
                    SweepRow row = row_for(kind, 0, 0, kv, grid.positions);
                    if (is_budget_by_score(kind)) row.policy.budget = w;
                    // H2O's paper splits its budget evenly (the CLI's --budget does the same).
                    row.policy.h2o_heavy = kind == PolicyKind::H2O ? w / 2 : 0;
                    row.policy.h2o_recent = kind == PolicyKind::H2O ? w - w / 2 : 0;
                    rows.push_back(row);
                    continue;
                }
                if (kind == PolicyKind::Window) {
                    rows.push_back(row_for(kind, w, 0, kv, grid.positions));
                    continue;
                }
                for (int32_t s : grid.sinks) {
                    if (s == 0) {
                        if (!has_window) rows.push_back(row_for(PolicyKind::Window, w, 0, kv, grid.positions));
                        continue;
                    }
                    SweepRow row = row_for(kind, w, s, kv, grid.positions);
                    if (s >= w)
                        row.note = "skipped: sinks " + std::to_string(s) + " must be smaller than window " +
                                   std::to_string(w);
                    rows.push_back(row);
                }
            }
        }
    }
    return rows;
}

std::vector<SweepRow> run_sweep(const Model& model, const std::vector<TokenId>& tokens, const SweepGrid& grid,
                                const SessionOptions& base, const BackendFactory& backend, const SweepProgress& progress) {
    std::vector<SweepRow> rows = sweep_plan(grid);
    for (size_t i = 0; i < rows.size(); ++i) {
        SweepRow& row = rows[i];
        if (!row.ran()) continue;
        SessionOptions so = base;
        so.policy = row.policy;
        so.reference_run = grid.reference;
        EvalProgress each;
        if (progress) each = [&](int32_t done, int32_t total) { return progress(i, rows.size(), done, total); };
        const PerplexityResult r = perplexity(model, tokens, so, backend, each);
        row.kv_bytes = r.peak_kv_bytes;
        row.ppl = r.ppl;
        row.mean_kl = r.mean_kl;
        row.top1 = r.top1_agreement;
        row.n_scored = r.n_scored;
    }
    return rows;
}

std::string sweep_csv(const std::vector<SweepRow>& rows) {
    std::ostringstream out;
    out << "policy,window,sinks,kv_type,positions,kv_bytes,ppl,mean_kl,top1,n_scored,note\n";
    for (const SweepRow& r : rows) {
        out << policy_kind_name(r.policy.kind) << ',' << sweep_size(r.policy) << ',' << r.policy.sinks << ','
            << kv_value_type_name(r.policy.kv_type) << ',' << position_mode_name(r.policy.positions) << ',';
        if (r.ran()) {
            out << r.kv_bytes << ',' << number(r.ppl, 4) << ',' << number(r.mean_kl, 6) << ',' << number(r.top1, 4)
                << ',' << r.n_scored;
        } else {
            out << ",,,,";
        }
        out << ',' << csv_field(r.note) << '\n';
    }
    return out.str();
}

void write_sweep_csv(const std::vector<SweepRow>& rows, const std::string& path) {
    write_file_atomically(path, sweep_csv(rows));
}

}  // namespace kvscope
