#pragma once
// Export and import of a Trace (docs/trace.md has the formats):
//   <prefix>.json      header, budget, and per entry (prefill, steps): token,
//                      top-k, text, flags, metrics, memory, timings, policy,
//                      cache maps (run lists)
//   <prefix>.attn.bin  attention: per entry per query per layer the key
//                      positions (run list) and the 8-bit codes
// Export then import gives identical data (attention codes included).
// Files are written atomically; failures throw kvscope::Error naming the path
// and the OS error, and leave no partial file. Import refuses malformed files
// with a one-line message naming the file and what is wrong.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "session/trace.h"

namespace kvscope {

void export_trace(const Trace& trace, const std::string& prefix);
// export_trace for a trace that other threads keep using under `mutex` (the
// desktop app's live run: the decoder stores steps, the views read entries).
// The mutex is held only while a piece is copied out of the trace (a few
// dozen steps' metadata, or about 1 MiB of attention), never while turning
// it into JSON or writing.
// The budget rule is paused meanwhile (Trace::pause_budget), so the files hold
// the trace as it was when the export began; steps stored later are left out.
// progress(fraction done, 0..1) is called between pieces, outside the lock;
// when it returns false the export stops, leaves nothing behind and returns
// false. Throws like export_trace (and leaves nothing behind either).
bool export_trace_shared(Trace& trace, std::mutex& mutex, const std::string& prefix,
                         const std::function<bool(double)>& progress = {});
Trace import_trace(const std::string& prefix);
// The same from the two files' bytes in memory (the fuzz target); `name`
// stands for the prefix in messages.
Trace import_trace_from_memory(std::string_view json_text, const uint8_t* attn, size_t attn_size, const std::string& name);

// Attention of one layer as a matrix: a header row of key positions, then
// one row per query position (prefill queries, then each step's), the first
// cell the query position, then the decoded probability of head `head`, or
// the mean over heads when head is -1. Cells are empty where the key was not
// held, and the whole row where that attention was dropped for the budget.
// Throws InvalidSetting for a layer or head outside the model.
void export_attention_csv(const Trace& trace, int32_t layer, int32_t head, const std::string& path);

}  // namespace kvscope
