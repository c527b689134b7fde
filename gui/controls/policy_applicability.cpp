#include "controls/policy_applicability.h"

namespace kvscope::gui {

bool same_policy(const PolicyConfig& a, const PolicyConfig& b) {
    if (a.dynamic.size() != b.dynamic.size()) return false;
    for (size_t i = 0; i < a.dynamic.size(); ++i)
        if (a.dynamic[i].below != b.dynamic[i].below || a.dynamic[i].window != b.dynamic[i].window) return false;
    return a.kind == b.kind && a.window == b.window && a.sinks == b.sinks && a.pins == b.pins && a.pin_every == b.pin_every &&
           a.h2o_heavy == b.h2o_heavy && a.h2o_recent == b.h2o_recent && a.full_every == b.full_every &&
           a.kv_type == b.kv_type && a.positions == b.positions;
}

}  // namespace kvscope::gui
