#include "policy_args.h"

#include <climits>
#include <string>
#include <tuple>

#include "kv/policy_registry.h"
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

PolicyFlags::Budget parse_budget(const std::string& text) {
    if (!text.empty() && text.back() == '%') {
        try {
            const int32_t p = parse_whole_number(text.substr(0, text.size() - 1), 1);
            if (p > 100) throw UsageError("");
            return {p, true};
        } catch (const UsageError&) {
            throw UsageError("needs a percentage from 1% to 100%, got '" + text + "'");
        }
    }
    try {
        return {parse_whole_number(text, 1), false};
    } catch (const UsageError&) {
        throw UsageError("needs a whole number >= 1 or a percentage (e.g. 20%), got '" + text + "'");
    }
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

// --budget B as the policy's own size; a size given twice is a usage error.
void apply_budget(const PolicyFlags& flags, PolicyConfig& p) {
    if (flags.budget_percent) {
        if (p.kind != PolicyKind::H2O && !is_budget_by_score(p.kind))
            throw UsageError(std::string("option --budget P% applies to h2o, tova, knorm and keydiff (policy is ") +
                             policy_kind_name(p.kind) + "); give a number of positions");
        if (flags.h2o) throw UsageError("options --budget and --h2o both size h2o: give one");
        p.budget_percent = *flags.budget_percent;
        return;
    }
    if (!flags.budget) return;
    const int32_t b = *flags.budget;
    switch (p.kind) {
        case PolicyKind::Full: throw UsageError("option --policy full keeps every position: drop --budget");
        case PolicyKind::Window:
        case PolicyKind::SinksWindow:
        case PolicyKind::Global:
            if (flags.window || flags.dynamic) throw UsageError("options --budget and --window/--dynamic-window both size the window: give one");
            p.window = b;
            break;
        case PolicyKind::H2O:
            if (flags.h2o) throw UsageError("options --budget and --h2o both size h2o: give one");
            p.h2o_heavy = b / 2;  // H2O's paper splits its budget evenly between heavy hitters and recent tokens
            p.h2o_recent = b - b / 2;
            break;
        case PolicyKind::Tova:
        case PolicyKind::Knorm:
        case PolicyKind::KeyDiff: p.budget = b; break;
    }
}

}  // namespace

NamedValues<PolicyKind> policy_kind_names() {
    std::vector<PolicyKind> kinds;
    for (const PolicyInfo& info : policy_registry()) kinds.push_back(info.kind);
    return names_of(kinds, policy_kind_name);
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
                      names_text(policy_kind_names()) + " (`kvscope-cli policies` gives their rules); without it, "
                      "inferred from the flags below")
        ->type_name("NAME")->group(kGroup);
    app.add_option("--window", flags.window, "keep the last W positions; under sinks, W counts the sinks")
        ->type_name("W")->check(whole_number())->group(kGroup);
    app.add_option("--sinks", flags.sinks, "also keep the first S positions (attention sinks; sinks and global policies)")
        ->type_name("S")->check(whole_number())->group(kGroup);
    add_parsed_option(app, "--pin", flags.pins, parse_pins, "pin these positions (global policy)")
        ->type_name("P,Q,...")->group(kGroup);
    app.add_option("--pin-every", flags.pin_every, "also pin every K-th position (global policy)")
        ->type_name("K")->check(whole_number(1))->group(kGroup);
    add_parsed_option(app, "--h2o", flags.h2o, parse_h2o, "H2O: keep the H heaviest and the R most recent positions")
        ->type_name("H,R")->group(kGroup);
    add_parsed_option(app, "--budget", flags.budget_given, parse_budget,
                      "the most positions a layer holds, for any policy: the B of tova, knorm and keydiff, the "
                      "window W (global: sinks and pins on top), h2o's H + R (halved, as in its paper); P% = that "
                      "share of the positions seen (h2o and the scoring methods); alone, it means --policy tova")
        ->type_name("B|P%")->group(kGroup);
    app.add_flag("--pin-separators", flags.pin_separators,
                 "global policy: also pin every separator token (. , ; : ! ? and line breaks), as SepLLM")
        ->group(kGroup);
    std::string presets;
    for (const PolicyPreset& p : policy_presets()) presets += (presets.empty() ? "" : ", ") + std::string(p.name);
    app.add_option("--preset", flags.preset,
                   presets + ": a published method built of these pieces, sized by --window (or --budget) and --sinks "
                             "(default 4); `kvscope-cli policies` says what each expands to")
        ->type_name("NAME")->group(kGroup);
    add_parsed_option(app, "--layer-pattern", flags.full_every, parse_layer_pattern,
                      "full:K = every K-th layer keeps everything (Gemma-style)")
        ->type_name("PATTERN")->group(kGroup);
    add_parsed_option(app, "--dynamic-window", flags.dynamic, parse_dynamic_steps,
                      "window by length, e.g. 1024:full,8192:2048,4096")
        ->type_name("SPEC")->group(kGroup);
    add_storage_options(app, flags);
}

namespace {

// --preset NAME: its expansion, with the storage and layer flags on top.
PolicyConfig preset_from_flags(const PolicyFlags& flags) {
    const PolicyPreset* preset = find_policy_preset(*flags.preset);
    if (preset == nullptr) {
        std::string names;
        for (const PolicyPreset& p : policy_presets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
        throw UsageError("option --preset must be one of " + names + "; got '" + *flags.preset + "'");
    }
    const std::string with = std::string(" with --preset ") + preset->name;
    if (flags.kind) throw UsageError("options --preset and --policy both choose the policy: give one");
    if (flags.h2o || flags.pins || flags.pin_every || flags.dynamic || flags.pin_separators)
        throw UsageError("options --h2o, --pin, --pin-every, --pin-separators and --dynamic-window do not go" + with);
    if (flags.window && flags.budget) throw UsageError("options --budget and --window both size the window: give one");
    if (!flags.window && !flags.budget) throw UsageError("option --window (or --budget) is needed" + with);
    PolicyConfig p = preset->make(flags.window ? *flags.window : *flags.budget, flags.sinks.value_or(4));
    if (flags.positions && *flags.positions != p.positions)
        throw UsageError(std::string("option --positions ") + position_mode_name(*flags.positions) + " does not go" + with +
                         " (it uses " + position_mode_name(p.positions) + " positions)");
    p.kv_type = flags.kv_type.value_or(p.kv_type);
    p.full_every = flags.full_every.value_or(0);
    return p;
}

}  // namespace

PolicyConfig policy_from_flags(const PolicyFlags& given) {
    PolicyFlags flags = given;
    if (flags.budget_given) (flags.budget_given->percent ? flags.budget_percent : flags.budget) = flags.budget_given->value;
    if (flags.preset) {
        if (flags.budget_percent) throw UsageError("option --budget P% does not go with --preset: give a number of positions");
        return preset_from_flags(flags);
    }
    PolicyConfig p;
    p.window = flags.window.value_or(0);
    p.sinks = flags.sinks.value_or(0);
    p.pins = flags.pins.value_or(std::set<int32_t>{});
    p.pin_every = flags.pin_every.value_or(0);
    p.pin_separators = flags.pin_separators;
    if (flags.h2o) std::tie(p.h2o_heavy, p.h2o_recent) = *flags.h2o;
    p.full_every = flags.full_every.value_or(0);
    p.dynamic = flags.dynamic.value_or(std::vector<DynamicWindowStep>{});
    p.kv_type = flags.kv_type.value_or(p.kv_type);
    p.positions = flags.positions.value_or(p.positions);

    if (flags.kind) {
        p.kind = *flags.kind;
    } else if (flags.h2o) {
        p.kind = PolicyKind::H2O;
    } else if (flags.pins || flags.pin_every || flags.pin_separators) {
        p.kind = PolicyKind::Global;
    } else if (p.sinks > 0) {
        p.kind = PolicyKind::SinksWindow;
    } else if (flags.window || flags.dynamic) {
        p.kind = PolicyKind::Window;
    } else if (flags.budget || flags.budget_percent) {
        p.kind = PolicyKind::Tova;
    }

    apply_budget(flags, p);
    const bool windowed =
        p.kind == PolicyKind::Window || p.kind == PolicyKind::SinksWindow || p.kind == PolicyKind::Global;
    if (windowed && p.window == 0 && p.dynamic.empty())
        throw UsageError(std::string("option --window is needed with --policy ") + policy_kind_name(p.kind) +
                         " (or --dynamic-window, or --budget)");
    if (p.kind == PolicyKind::H2O && !flags.h2o && !flags.budget && !flags.budget_percent)
        throw UsageError("option --h2o HEAVY,RECENT (or --budget B) is needed with --policy h2o");
    if (is_budget_by_score(p.kind) && !flags.budget && !flags.budget_percent)
        throw UsageError(std::string("option --budget B is needed with --policy ") + policy_kind_name(p.kind));
    if (p.kind == PolicyKind::Full &&
        (flags.window || flags.sinks || flags.h2o || flags.pins || flags.pin_every || flags.dynamic))
        throw UsageError("option --policy full keeps every position: drop --window/--sinks/--pin/--h2o/--dynamic-window");
    return p;
}

}  // namespace kvscope::cli
