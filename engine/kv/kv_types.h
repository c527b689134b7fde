#pragma once
// The KV cache's vocabulary, shared by the engine's bookkeeping, the policies
// and every backend (kernels/ includes this without the session): how values
// are stored, where RoPE puts a key, and the role a held position plays.
#include <cstdint>
#include <string>

namespace kvscope {

enum class KvValueType { F32, F16, Q8_0 };

enum class PositionMode {
    Original,  // RoPE at the text position (keys rotated once, when stored)
    InCache,   // RoPE at the rank inside the cache (StreamingLLM): keys stored unrotated
};

enum class SlotRole : uint8_t { Window = 0, Sink = 1, Global = 2, HeavyHitter = 3 };

const char* kv_value_type_name(KvValueType t);   // "f32", "f16", "q8_0"
const char* position_mode_name(PositionMode m);  // "original", "in-cache"
const char* slot_role_name(SlotRole r);          // "window", "sink", "global", "heavy"
// Parse the names above; throw InvalidSetting listing the accepted names.
KvValueType parse_kv_value_type(const std::string& s);
PositionMode parse_position_mode(const std::string& s);

// Physical slots come in pages of this many (vLLM's block size): storage grows
// a page at a time, and the views draw page boundaries.
inline constexpr int32_t kPageSize = 16;

}  // namespace kvscope
