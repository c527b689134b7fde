#pragma once
// The newest query rows at a timeline entry, from the live snapshots when they
// are given, else decoded from the trace (one entry at a time under its lock).
// Used by the history and by the thumbnail pooler (on its own thread).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/run_settings.h"
#include "core/shared_trace.h"

namespace kvscope::gui {

// Up to `wanted` rows fed at or before `entry` (0 = the prefill), oldest first,
// every layer. `live`: the newest snapshots, oldest first (entry must then be
// the newest). Rows whose attention the trace's budget dropped come back with
// no keys (drawn blank).
std::vector<QueryAttention> recent_rows(const std::vector<KvSnapshotPtr>& live, const SharedTracePtr& trace,
                                        int32_t entry, size_t wanted);

}  // namespace kvscope::gui
