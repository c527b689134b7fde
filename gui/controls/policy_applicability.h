#pragma once
// Which policy-dock controls mean something under each cache policy (the
// others are disabled, not hidden, so the layout does not jump). Read from
// each policy's parameters in the registry.
#include "kv/kv_policy.h"
#include "kv/policy_registry.h"

namespace kvscope::gui {

struct PolicyControlsInUse {
    bool window = false;      // W, and the dynamic-window steps
    bool sinks = false;       // S
    bool pins = false;        // pinned list, remove, pin every k
    bool h2o = false;         // H and R
    bool budget = false;      // B (tova)
    bool layer_pattern = false;  // every k-th layer full
};

inline PolicyControlsInUse controls_in_use(PolicyKind kind) {
    PolicyControlsInUse use;
    use.window = policy_uses(kind, "window");
    use.sinks = policy_uses(kind, "sinks");
    use.pins = policy_uses(kind, "pin");
    use.h2o = policy_uses(kind, "h2o");
    use.budget = policy_uses(kind, "budget");
    use.layer_pattern = kind != PolicyKind::Full;  // a full policy keeps every layer full anyway
    return use;
}

}  // namespace kvscope::gui
