// What a heatmap shows, as plain data: no Qt and no engine types, so the CLI,
// the desktop app and the tests fill it from whatever they computed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kvscope::render {

// A sink or global mark: the key column `key` (a key position) outlined over
// the rows [first_row, last_row] (row indices), where that key was held in
// that role. A key evicted later, or pinned only for a while, is marked only
// where it was held.
struct MarkSpan {
    int32_t key = 0;
    int32_t first_row = 0;
    int32_t last_row = 0;
    bool operator==(const MarkSpan&) const = default;
};

struct HeatmapData {
    std::vector<int32_t> query_positions;  // one per row, top to bottom
    std::vector<int32_t> key_positions;    // one per column, left to right (ascending)
    // Row-major [queries][keys]. NaN = the key was not held for that query
    // (evicted, or not yet written): drawn in the "not held" grey.
    std::vector<float> values;
    std::vector<MarkSpan> sink_marks;    // attention-sink tokens, where held as sinks
    std::vector<MarkSpan> global_marks;  // global (pinned) tokens, where held as such
    // Per query row: (query position, first key position inside its window).
    std::vector<std::pair<int32_t, int32_t>> window_edges;
    std::vector<std::string> query_labels, key_labels;  // empty, or one per row / column
    std::string title;
    std::string caption;  // a second title line (model, policy, step); empty = none
};

// The runs of rows in which key position `key` has a value (is held): the
// marks of a key that kept its role for as long as it was held.
inline std::vector<MarkSpan> held_spans(const HeatmapData& d, int32_t key) {
    std::vector<MarkSpan> spans;
    std::size_t column = d.key_positions.size();
    for (std::size_t k = 0; k < d.key_positions.size(); ++k)
        if (d.key_positions[k] == key) column = k;
    if (column == d.key_positions.size()) return spans;
    const std::size_t nk = d.key_positions.size();
    for (std::size_t r = 0; r < d.query_positions.size(); ++r) {
        const float v = d.values[r * nk + column];
        if (v != v) continue;  // NaN: not held
        const auto row = static_cast<int32_t>(r);
        if (!spans.empty() && spans.back().last_row == row - 1) spans.back().last_row = row;
        else spans.push_back(MarkSpan{key, row, row});
    }
    return spans;
}

}  // namespace kvscope::render
