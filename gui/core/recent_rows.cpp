#include "core/recent_rows.h"

#include <algorithm>

namespace kvscope::gui {

std::vector<QueryAttention> recent_rows(const std::vector<KvSnapshotPtr>& live, const SharedTracePtr& trace,
                                        int32_t entry, size_t wanted) {
    std::vector<QueryAttention> out;  // newest first while collecting
    if (!live.empty()) {
        for (auto s = live.rbegin(); s != live.rend() && out.size() < wanted; ++s)
            for (auto q = (*s)->attention.rbegin(); q != (*s)->attention.rend() && out.size() < wanted; ++q)
                out.push_back(*q);
    } else if (trace) {
        for (int32_t e = entry; e >= 0 && out.size() < wanted; --e) {
            std::vector<QueryAttention> rows;
            {
                std::lock_guard<std::mutex> lock(trace->mutex);
                rows = trace->trace.attention(e - 1, wanted - out.size());  // entry 0 is the trace's prefill (-1)
            }
            for (auto q = rows.rbegin(); q != rows.rend(); ++q) out.push_back(std::move(*q));
        }
    }
    std::reverse(out.begin(), out.end());
    for (QueryAttention& q : out)
        for (LayerAttention& l : q.layers)
            if (l.probs.empty()) l.key_positions.clear();  // dropped for the trace's budget: a blank row
    return out;
}

}  // namespace kvscope::gui
