#pragma once
// Which policy-dock controls mean something under each cache policy (the
// others are disabled, not hidden, so the layout does not jump). Mirrors the
// fields PolicyConfig::validate accepts per kind.
#include "kv/kv_policy.h"

namespace kvscope::gui {

struct PolicyControlsInUse {
    bool window = false;      // W, and the dynamic-window steps
    bool sinks = false;       // S
    bool pins = false;        // pinned list, remove, pin every k
    bool h2o = false;         // H and R
    bool layer_pattern = false;  // every k-th layer full
};

inline PolicyControlsInUse controls_in_use(PolicyKind kind) {
    PolicyControlsInUse use;
    use.window = kind == PolicyKind::Window || kind == PolicyKind::SinksWindow || kind == PolicyKind::Global;
    use.sinks = kind == PolicyKind::SinksWindow;
    use.pins = kind == PolicyKind::Global;
    use.h2o = kind == PolicyKind::H2O;
    use.layer_pattern = kind != PolicyKind::Full;  // a full policy keeps every layer full anyway
    return use;
}

}  // namespace kvscope::gui
