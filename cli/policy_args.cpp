#include "policy_args.h"

#include <climits>
#include <string>
#include <tuple>

#include "option_values.h"
#include "usage_error.h"

namespace kvscope::cli {
namespace {

const char* kGroup = "Cache policy";

// A window size in --dynamic-window: a whole number, or "full" (0).
int32_t window_or_full(const std::string& text) {
    if (text == "full") return 0;
    try {
        return parse_whole_number(text);
    } catch (const UsageError&) {
        throw UsageError("needs a whole number >= 0 or 'full', got '" + text + "'");
    }
}

std::vector<DynamicWindowStep> parse_dynamic_steps(const std::string& spec) {
    std::vector<DynamicWindowStep> steps;
    const auto items = split(spec, ',');
    for (size_t i = 0; i < items.size(); ++i) {
        const auto parts = split(items[i], ':');
        if (parts.size() == 1 && i + 1 == items.size()) {
            steps.push_back({INT32_MAX, window_or_full(parts[0])});
        } else if (parts.size() == 2) {
            const int32_t below = parse_whole_number(parts[0]);
            if (!steps.empty() && below <= steps.back().below)
                throw UsageError("needs increasing lengths, got '" + spec + "'");
            steps.push_back({below, window_or_full(parts[1])});
        } else {
            throw UsageError("needs LENGTH:WINDOW steps (WINDOW a number or 'full'; the last may be WINDOW alone), "
                             "e.g. 1024:full,8192:2048,4096; got '" + spec + "'");
        }
    }
    return steps;
}

std::set<int32_t> parse_pins(const std::string& list) {
    std::set<int32_t> pins;
    for (const std::string& item : split(list, ',')) pins.insert(parse_whole_number(item));
    return pins;
}

std::pair<int32_t, int32_t> parse_h2o(const std::string& text) {
    const auto parts = split(text, ',');
    if (parts.size() != 2) throw UsageError("needs HEAVY,RECENT (e.g. 64,192), got '" + text + "'");
    return {parse_whole_number(parts[0]), parse_whole_number(parts[1])};
}

int32_t parse_layer_pattern(const std::string& text) {
    const auto parts = split(text, ':');
    if (parts.size() != 2 || parts[0] != "full")
        throw UsageError("needs full:K (every K-th layer full), got '" + text + "'");
    try {
        return parse_whole_number(parts[1], 1);
    } catch (const UsageError&) {
        throw UsageError("needs K >= 1 in full:K, got '" + text + "'");
    }
}

void add_kv_type_option(CLI::App& app, PolicyFlags& flags) {
    add_parsed_option(app, "--kv-type", flags.kv_type, one_of(kv_type_names()),
                      "how keys and values are stored: " + names_text(kv_type_names()))
        ->type_name("TYPE")->default_str(kv_value_type_name(PolicyConfig{}.kv_type))->group(kGroup);
}

}  // namespace

NamedValues<PolicyKind> policy_kind_names() {
    return names_of({PolicyKind::Full, PolicyKind::Window, PolicyKind::SinksWindow, PolicyKind::Global, PolicyKind::H2O},
                    policy_kind_name);
}

NamedValues<KvValueType> kv_type_names() {
    return names_of({KvValueType::F32, KvValueType::F16, KvValueType::Q8_0}, kv_value_type_name);
}

NamedValues<PositionMode> position_mode_names() {
    return names_of({PositionMode::Original, PositionMode::InCache}, position_mode_name);
}

void add_positions_option(CLI::App& app, PolicyFlags& flags) {
    add_parsed_option(app, "--positions", flags.positions, one_of(position_mode_names()),
                      "RoPE at the text position (original) or the cache rank (in-cache)")
        ->type_name("MODE")->default_str(position_mode_name(PolicyConfig{}.positions))->group(kGroup);
}

void add_storage_options(CLI::App& app, PolicyFlags& flags) {
    add_kv_type_option(app, flags);
    add_positions_option(app, flags);
}

void add_policy_options(CLI::App& app, PolicyFlags& flags) {
    add_parsed_option(app, "--policy", flags.kind, one_of(policy_kind_names()),
                      names_text(policy_kind_names()) + "; without it, inferred from the flags below")
        ->type_name("NAME")->group(kGroup);
    app.add_option("--window", flags.window, "keep the last W positions; W counts the sinks")
        ->type_name("W")->check(whole_number())->group(kGroup);
    app.add_option("--sinks", flags.sinks, "also keep the first S positions (attention sinks)")
        ->type_name("S")->check(whole_number())->group(kGroup);
    add_parsed_option(app, "--pin", flags.pins, parse_pins, "pin these positions (global policy)")
        ->type_name("P,Q,...")->group(kGroup);
    app.add_option("--pin-every", flags.pin_every, "also pin every K-th position (global policy)")
        ->type_name("K")->check(whole_number(1))->group(kGroup);
    add_parsed_option(app, "--h2o", flags.h2o, parse_h2o, "H2O: keep the H heaviest and the R most recent positions")
        ->type_name("H,R")->group(kGroup);
    add_parsed_option(app, "--layer-pattern", flags.full_every, parse_layer_pattern,
                      "full:K = every K-th layer keeps everything (Gemma-style)")
        ->type_name("PATTERN")->group(kGroup);
    add_parsed_option(app, "--dynamic-window", flags.dynamic, parse_dynamic_steps,
                      "window by length, e.g. 1024:full,8192:2048,4096")
        ->type_name("SPEC")->group(kGroup);
    add_storage_options(app, flags);
}

PolicyConfig policy_from_flags(const PolicyFlags& flags) {
    PolicyConfig p;
    p.window = flags.window.value_or(0);
    p.sinks = flags.sinks.value_or(0);
    p.pins = flags.pins.value_or(std::set<int32_t>{});
    p.pin_every = flags.pin_every.value_or(0);
    if (flags.h2o) std::tie(p.h2o_heavy, p.h2o_recent) = *flags.h2o;
    p.full_every = flags.full_every.value_or(0);
    p.dynamic = flags.dynamic.value_or(std::vector<DynamicWindowStep>{});
    p.kv_type = flags.kv_type.value_or(p.kv_type);
    p.positions = flags.positions.value_or(p.positions);

    if (flags.kind) {
        p.kind = *flags.kind;
    } else if (flags.h2o) {
        p.kind = PolicyKind::H2O;
    } else if (flags.pins || flags.pin_every) {
        p.kind = PolicyKind::Global;
    } else if (p.sinks > 0) {
        p.kind = PolicyKind::SinksWindow;
    } else if (flags.window || flags.dynamic) {
        p.kind = PolicyKind::Window;
    }

    const bool windowed =
        p.kind == PolicyKind::Window || p.kind == PolicyKind::SinksWindow || p.kind == PolicyKind::Global;
    if (windowed && p.window == 0 && p.dynamic.empty())
        throw UsageError(std::string("option --window is needed with --policy ") + policy_kind_name(p.kind) +
                         " (or --dynamic-window)");
    if (p.kind == PolicyKind::H2O && !flags.h2o) throw UsageError("option --h2o HEAVY,RECENT is needed with --policy h2o");
    if (p.kind == PolicyKind::Full &&
        (flags.window || flags.sinks || flags.h2o || flags.pins || flags.pin_every || flags.dynamic))
        throw UsageError("option --policy full keeps every position: drop --window/--sinks/--pin/--h2o/--dynamic-window");
    return p;
}

}  // namespace kvscope::cli
