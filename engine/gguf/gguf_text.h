#pragma once
// Small helpers shared by the GGUF reader's parts.
#include <cstdint>
#include <string>
#include <string_view>

namespace kvscope::gguf {

// `s` in single quotes for a one-line message: control and non-ASCII bytes
// become \xNN and long names are cut, because keys and tensor names come
// from the file and may be anything.
std::string quoted(std::string_view s);

// Whether `id` is one of the 13 GGUF value types.
inline bool is_value_type(uint32_t id) { return id <= 12; }

}  // namespace kvscope::gguf
