#pragma once
// Names of policy kinds, KV value types and position modes as the quality
// lab writes them in tables (the same spelling as kv_policy.h's *_name
// functions and the CLI flags).
#include "kv/kv_policy.h"

namespace kvscope {

inline const char* eval_policy_name(PolicyKind k) {
    switch (k) {
        case PolicyKind::Full: return "full";
        case PolicyKind::Window: return "window";
        case PolicyKind::SinksWindow: return "sinks";
        case PolicyKind::Global: return "global";
        case PolicyKind::H2O: return "h2o";
    }
    return "?";
}

inline const char* eval_kv_type_name(KvValueType t) {
    switch (t) {
        case KvValueType::F32: return "f32";
        case KvValueType::F16: return "f16";
        case KvValueType::Q8_0: return "q8_0";
    }
    return "?";
}

inline const char* eval_positions_name(PositionMode m) {
    return m == PositionMode::InCache ? "in-cache" : "original";
}

}  // namespace kvscope
