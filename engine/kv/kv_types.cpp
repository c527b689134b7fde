#include "kv/kv_types.h"

#include "util/error.h"

namespace kvscope {

const char* kv_value_type_name(KvValueType t) {
    switch (t) {
        case KvValueType::F32: return "f32";
        case KvValueType::F16: return "f16";
        case KvValueType::Q8_0: return "q8_0";
    }
    return "?";
}

const char* position_mode_name(PositionMode m) { return m == PositionMode::Original ? "original" : "in-cache"; }

const char* slot_role_name(SlotRole r) {
    switch (r) {
        case SlotRole::Window: return "window";
        case SlotRole::Sink: return "sink";
        case SlotRole::Global: return "global";
        case SlotRole::HeavyHitter: return "heavy";
    }
    return "?";
}

KvValueType parse_kv_value_type(const std::string& s) {
    for (KvValueType t : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0})
        if (s == kv_value_type_name(t)) return t;
    throw InvalidSetting("KV type must be one of f32, f16, q8_0; got '" + s + "'");
}

PositionMode parse_position_mode(const std::string& s) {
    if (s == "original") return PositionMode::Original;
    if (s == "in-cache") return PositionMode::InCache;
    throw InvalidSetting("position mode must be original or in-cache; got '" + s + "'");
}

}  // namespace kvscope
