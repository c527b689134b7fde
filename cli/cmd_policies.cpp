// kvscope-cli policies: the cache policies the engine has (policy_registry.h),
// each with its rule, paper and parameters, and the presets built of them, as
// text or one JSON object {"policies": [...], "presets": [...]}.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "command_app.h"
#include "commands.h"
#include "kv/policy_registry.h"

namespace kvscope::cli {
namespace {

std::string range_text(const PolicyParameter& p) {
    return ">= " + std::to_string(p.min) + (p.max_is_context ? ", <= the context length" : "");
}

nlohmann::json registry_json() {
    nlohmann::json list = nlohmann::json::array();
    for (const PolicyInfo& info : policy_registry()) {
        nlohmann::json params = nlohmann::json::array();
        for (const PolicyParameter& p : info.parameters)
            params.push_back({{"name", p.name}, {"symbol", p.symbol}, {"min", p.min}, {"max_is_context", p.max_is_context},
                              {"default", p.default_value}, {"help", p.help}});
        list.push_back({{"name", info.name}, {"label", info.label}, {"rule", info.rule}, {"paper", info.paper},
                        {"parameters", params}, {"scores_attention", info.scores_attention}, {"sweepable", info.sweepable}});
    }
    nlohmann::json presets = nlohmann::json::array();
    for (const PolicyPreset& p : policy_presets())
        presets.push_back({{"name", p.name}, {"builds", p.builds}, {"paper", p.paper}});
    return {{"policies", list}, {"presets", presets}};
}

}  // namespace

int cmd_policies(const std::vector<std::string>& argv) {
    CommandApp app("policies");
    bool json = false;
    app.add_flag("--json", json, "one JSON object instead of text");
    if (!app.parse_arguments(argv)) return 0;
    if (json) {
        std::printf("%s\n", registry_json().dump(2).c_str());
        return 0;
    }
    for (const PolicyInfo& info : policy_registry()) {
        std::printf("%s\n  keeps: %s\n", info.name, info.rule);
        if (*info.paper) std::printf("  paper: %s\n", info.paper);
        for (const PolicyParameter& p : info.parameters)
            std::printf("  --%s %s (%s): %s\n", p.name, p.symbol, range_text(p).c_str(), p.help);
        if (info.scores_attention) std::printf("  reads the attention each step (captured for it)\n");
        if (info.sweepable) std::printf("  sweep: one row per --windows value (its size)\n");
        std::printf("\n");
    }
    std::printf("Every policy also takes --layer-pattern, --kv-type and --positions; --budget B sizes any of them.\n\n");
    std::printf("Presets (--preset NAME, sized by --window or --budget and --sinks, default 4):\n");
    for (const PolicyPreset& p : policy_presets()) std::printf("%s\n  builds: %s\n  paper: %s\n", p.name, p.builds, p.paper);
    return 0;
}

}  // namespace kvscope::cli
