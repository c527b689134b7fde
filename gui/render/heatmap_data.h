// What a heatmap shows, as plain data: no Qt and no engine types, so the CLI,
// the desktop app and the tests fill it from whatever they computed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kvscope::render {

struct HeatmapData {
    std::vector<int32_t> query_positions;  // one per row, top to bottom
    std::vector<int32_t> key_positions;    // one per column, left to right (ascending)
    // Row-major [queries][keys]. NaN = the key was not held for that query
    // (evicted, or not yet written): drawn in the "not held" grey.
    std::vector<float> values;
    std::vector<int32_t> sink_columns;    // key positions of attention-sink tokens
    std::vector<int32_t> global_columns;  // key positions of global tokens
    // Per query row: (query position, first key position inside its window).
    std::vector<std::pair<int32_t, int32_t>> window_edges;
    std::vector<std::string> query_labels, key_labels;  // empty, or one per row / column
    std::string title;
};

}  // namespace kvscope::render
