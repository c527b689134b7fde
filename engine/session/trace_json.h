#pragma once
// The JSON half of an exported trace (<prefix>.json): everything but the
// attention codes. Layout in docs/trace.md.
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "session/trace.h"

namespace kvscope::trace_detail {

nlohmann::json trace_to_json(const Trace& trace);
// The same in pieces: everything but the steps ("steps" left empty), then
// each step's object (trace_to_json appends them to "steps").
nlohmann::json trace_to_json_without_steps(const Trace& trace);
nlohmann::json entry_to_json(const StoredEntry& entry);

struct ParsedTrace {
    TraceHeader header;
    TraceOptions options;
    bool reached = false;
    int32_t reached_at = -1;
    std::optional<StoredEntry> prefill;  // queries left empty (they come from the attention file)
    std::vector<StoredEntry> steps;      // same
};

// Throws Error (nlohmann's or ours, naming the field) when something is missing or out of range.
ParsedTrace trace_from_json(const nlohmann::json& j);

}  // namespace kvscope::trace_detail
