#pragma once
// Heatmap redraw timing (DESIGN.md §6: < 16 ms at 4,096 x 4,096): a HeatmapView
// of a fixed size, shown (offscreen works), redrawn over synthetic matrices.
#include <cstdint>
#include <vector>

namespace kvscope::gui {

struct RedrawTiming {
    int32_t tokens = 0;     // the matrix is tokens x tokens
    double median_ms = 0;   // rebuilding the colour map + replot, per redraw
    double p90_ms = 0;
    int32_t samples = 0;
    double median_rebuild_ms = 0;  // of which pooling the grid and filling the colour map
};

// For each size: a realistic synthetic matrix (softmax-like rows over the held
// keys, 4 sinks + a 1,024-token window so most of it is evicted, a few pinned
// columns), then `repeats` redraws of a 1000 x 800 view, each after appending
// one more row as decoding does (the first, untimed, warms up). Needs a
// QApplication; call from the GUI thread. Throws std::invalid_argument for a
// size < 2 or repeats < 1.
std::vector<RedrawTiming> bench_heatmap_redraw(const std::vector<int32_t>& sizes, int repeats);

}  // namespace kvscope::gui
