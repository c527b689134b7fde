#pragma once
// Every cache policy the engine has, described once: its name (the CLI's
// --policy value, the saved settings' "kind"), the label the app shows, its
// rule, its paper, and the parameters it reads with their ranges and
// defaults. The CLI's help and `kvscope-cli policies`, the app's policy
// chooser and which of its controls are live, and the sweep's list of
// policies all read this table, so a new method is added here (and in its
// rule, kv_policy.cpp) rather than in each front end.
#include <cstdint>
#include <string>
#include <vector>

#include "kv/kv_policy.h"

namespace kvscope {

// One parameter of a policy. Ranges that depend on the context (a window can
// be as large as the context) say so with max_is_context; PolicyConfig::validate
// enforces them with the context at hand.
struct PolicyParameter {
    const char* name;      // as in the CLI: "window" is --window
    const char* symbol;    // as in the rule's text: "W"
    int32_t min;
    bool max_is_context;   // the largest value is the context length (else unbounded here)
    int32_t default_value; // what the app starts with
    const char* help;
};

struct PolicyInfo {
    PolicyKind kind;
    const char* name;     // "sinks"
    const char* label;    // "sinks + window" (the app's chooser)
    const char* rule;     // one sentence: what a layer keeps
    const char* paper;    // "" for none
    std::vector<PolicyParameter> parameters;
    bool scores_attention;  // decides by captured attention (the session captures it for the policy)
    bool sweepable;         // `sweep` runs it (its size comes from the grid's windows)
};

// A published method made of the pieces above: a name that expands to one
// PolicyConfig for a window W and S first tokens (the CLI's --preset).
struct PolicyPreset {
    const char* name;    // "sepllm"
    const char* builds;  // what it expands to, in words
    const char* paper;
    PolicyConfig (*make)(int32_t window, int32_t sinks);
};

// In the order the front ends list them.
const std::vector<PolicyInfo>& policy_registry();
const std::vector<PolicyPreset>& policy_presets();
// nullptr when there is no preset of that name.
const PolicyPreset* find_policy_preset(const std::string& name);
// The entry of a kind (every kind has one).
const PolicyInfo& policy_info(PolicyKind kind);
// Whether the kind reads the named parameter ("window", "sinks", "pin",
// "pin-every", "h2o", "budget").
bool policy_uses(PolicyKind kind, const std::string& parameter);
// "full, window, sinks, global, h2o, tova, knorm, keydiff": for help texts and errors.
std::string policy_names_text();

}  // namespace kvscope
