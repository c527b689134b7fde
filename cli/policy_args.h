#pragma once
// The cache-policy flags the decoding commands share (generate, bench,
// heatmap, ppl; passkey and sweep take some of them), defined once here:
//   --policy NAME   (policy_registry.h; default: inferred, see below)
//   --preset sepllm|lm-infinite   a published method built of the pieces below,
//                                 sized by --window (or --budget) and --sinks (default 4)
//   --pin-separators              global: also pin every separator token (SepLLM)
//   --window W   --sinks S   --pin P,Q,...   --pin-every K   --h2o H,R   --budget B|P%
//   --layer-pattern full:K        every K-th layer (1-based) keeps everything
//   --dynamic-window SPEC         e.g. "1024:full,8192:2048,4096": below 1,024
//                                 positions full, below 8,192 a window of
//                                 2,048, else 4,096 (the last step may omit "below:")
//   --kv-type f32|f16|q8_0        --positions original|in-cache
// Without --policy: --h2o → h2o, --pin/--pin-every → global, --sinks S > 0 →
// sinks, --window or --dynamic-window → window, --budget alone → tova, else
// full. --budget sizes whichever policy it is (see its help).
// A malformed value is a usage error naming the flag while CLI11 parses;
// whether the flags fit together is checked by policy_from_flags, and whether
// they fit the context (S < W, pins inside the text, ...) by
// PolicyConfig::validate when the session starts (InvalidSetting, exit 2).
#include <CLI/CLI.hpp>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kv/kv_policy.h"
#include "option_values.h"

namespace kvscope::cli {

// The flags as given; an absent one is empty.
struct PolicyFlags {
    std::optional<PolicyKind> kind;
    std::optional<int32_t> window;
    std::optional<int32_t> sinks;
    std::optional<std::set<int32_t>> pins;
    std::optional<int32_t> pin_every;
    std::optional<std::pair<int32_t, int32_t>> h2o;  // heavy, recent
    // --budget as given: a number of positions, or P% of the positions seen.
    struct Budget {
        int32_t value = 0;
        bool percent = false;
    };
    std::optional<Budget> budget_given;
    // Filled by policy_from_flags from budget_given (one of the two).
    std::optional<int32_t> budget;
    std::optional<int32_t> budget_percent;
    bool pin_separators = false;                     // --pin-separators (global: SepLLM's pins)
    std::optional<std::string> preset;               // --preset NAME (policy_registry.h's presets)
    std::optional<int32_t> full_every;               // --layer-pattern full:K
    std::optional<std::vector<DynamicWindowStep>> dynamic;
    std::optional<KvValueType> kv_type;
    std::optional<PositionMode> positions;
};

// Each policy kind (the registry's order), KV type and position mode under the engine's name for it.
NamedValues<PolicyKind> policy_kind_names();
NamedValues<KvValueType> kv_type_names();
NamedValues<PositionMode> position_mode_names();

// Every flag above, in the help's "Cache policy" group.
void add_policy_options(CLI::App& app, PolicyFlags& flags);
// Only how the cache stores what it keeps: --kv-type and --positions.
void add_storage_options(CLI::App& app, PolicyFlags& flags);
void add_positions_option(CLI::App& app, PolicyFlags& flags);

// The policy the flags describe; throws UsageError when they contradict each other.
PolicyConfig policy_from_flags(const PolicyFlags& flags);

}  // namespace kvscope::cli
