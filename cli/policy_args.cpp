#include "policy_args.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>
#include <vector>

#include "kv/kv_policy.h"
#include "util/error.h"

namespace kvscope::cli {
namespace {

// Runs one of kv_policy's name parsers, reporting a bad name as a usage error of `flag`.
template <typename Parse>
auto named(const std::string& flag, const std::string& value, Parse parse) {
    try {
        return parse(value);
    } catch (const InvalidSetting& e) {
        throw UsageError("option " + flag + ": " + e.what());
    }
}

// A whole non-negative int32 ("full" allowed as 0 where full_ok).
int32_t count(const std::string& flag, const std::string& s, bool full_ok = false) {
    if (full_ok && s == "full") return 0;
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || n < 0 || n > INT32_MAX || s[0] == '-' || s[0] == '+')
        throw UsageError("option " + flag + " needs a whole number >= 0" + (full_ok ? " or 'full'" : "") + ", got '" +
                         s + "'");
    return static_cast<int32_t>(n);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        const size_t at = s.find(sep, start);
        out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return out;
        start = at + 1;
    }
}

std::vector<DynamicWindowStep> dynamic_steps(const std::string& spec) {
    const std::string flag = "--dynamic-window";
    std::vector<DynamicWindowStep> steps;
    const auto items = split(spec, ',');
    for (size_t i = 0; i < items.size(); ++i) {
        const auto parts = split(items[i], ':');
        if (parts.size() == 1 && i + 1 == items.size()) {
            steps.push_back({INT32_MAX, count(flag, parts[0], true)});
        } else if (parts.size() == 2) {
            const int32_t below = count(flag, parts[0]);
            if (!steps.empty() && below <= steps.back().below)
                throw UsageError("option " + flag + " needs increasing lengths, got '" + spec + "'");
            steps.push_back({below, count(flag, parts[1], true)});
        } else {
            throw UsageError("option " + flag + " needs LENGTH:WINDOW steps (WINDOW a number or 'full'; the last may be "
                             "WINDOW alone), e.g. 1024:full,8192:2048,4096; got '" + spec + "'");
        }
    }
    return steps;
}

}  // namespace

std::set<std::string> policy_value_options() {
    return {"--policy", "--window", "--sinks", "--pin", "--pin-every", "--h2o",
            "--layer-pattern", "--dynamic-window", "--kv-type", "--positions"};
}

PolicyConfig policy_from_args(const Args& args) {
    PolicyConfig p;
    if (auto v = args.value("--window")) p.window = count("--window", *v);
    if (auto v = args.value("--sinks")) p.sinks = count("--sinks", *v);
    if (auto v = args.value("--pin")) {
        for (const std::string& item : split(*v, ',')) p.pins.insert(count("--pin", item));
    }
    if (auto v = args.value("--pin-every")) {
        p.pin_every = count("--pin-every", *v);
        if (p.pin_every < 1) throw UsageError("option --pin-every needs a whole number >= 1, got '" + *v + "'");
    }
    if (auto v = args.value("--h2o")) {
        const auto parts = split(*v, ',');
        if (parts.size() != 2) throw UsageError("option --h2o needs HEAVY,RECENT (e.g. 64,192), got '" + *v + "'");
        p.h2o_heavy = count("--h2o", parts[0]);
        p.h2o_recent = count("--h2o", parts[1]);
    }
    if (auto v = args.value("--layer-pattern")) {
        const auto parts = split(*v, ':');
        if (parts.size() != 2 || parts[0] != "full")
            throw UsageError("option --layer-pattern needs full:K (every K-th layer full), got '" + *v + "'");
        p.full_every = count("--layer-pattern", parts[1]);
        if (p.full_every < 1) throw UsageError("option --layer-pattern needs K >= 1 in full:K, got '" + *v + "'");
    }
    if (auto v = args.value("--dynamic-window")) p.dynamic = dynamic_steps(*v);
    if (auto v = args.value("--kv-type"))
        p.kv_type = named("--kv-type", *v, parse_kv_value_type);
    if (auto v = args.value("--positions"))
        p.positions = named("--positions", *v, parse_position_mode);

    if (auto v = args.value("--policy")) {
        p.kind = named("--policy", *v, parse_policy_kind);
    } else if (args.value("--h2o")) {
        p.kind = PolicyKind::H2O;
    } else if (args.value("--pin") || args.value("--pin-every")) {
        p.kind = PolicyKind::Global;
    } else if (p.sinks > 0) {
        p.kind = PolicyKind::SinksWindow;
    } else if (args.value("--window") || args.value("--dynamic-window")) {
        p.kind = PolicyKind::Window;
    }

    const bool windowed =
        p.kind == PolicyKind::Window || p.kind == PolicyKind::SinksWindow || p.kind == PolicyKind::Global;
    if (windowed && p.window == 0 && p.dynamic.empty())
        throw UsageError(std::string("option --window is needed with --policy ") + policy_kind_name(p.kind) +
                         " (or --dynamic-window)");
    if (p.kind == PolicyKind::H2O && !args.value("--h2o"))
        throw UsageError("option --h2o HEAVY,RECENT is needed with --policy h2o");
    if (p.kind == PolicyKind::Full && (args.value("--window") || args.value("--sinks") || args.value("--h2o") ||
                                       args.value("--pin") || args.value("--pin-every") || args.value("--dynamic-window")))
        throw UsageError("option --policy full keeps every position: drop --window/--sinks/--pin/--h2o/--dynamic-window");
    return p;
}

}  // namespace kvscope::cli
