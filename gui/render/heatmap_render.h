// Attention / KV-residency heatmaps: queries down, keys across, viridis,
// not-held cells grey, sink and global columns outlined, window edge drawn.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "render/heatmap_data.h"

namespace kvscope::render {

enum class ColorScale { Linear, Log };

struct HeatmapStyle {
    int width = 1000;   // pixels (points for PDF)
    int height = 800;
    ColorScale scale = ColorScale::Linear;
    // Colour range; NaN = from the data (finite values; for Log, the positive ones).
    // Under Log, values <= 0 are drawn at the bottom of the range.
    double value_min = std::numeric_limits<double>::quiet_NaN();
    double value_max = std::numeric_limits<double>::quiet_NaN();
    std::string value_label = "attention";  // colour bar label
    bool hatch_not_held = true;             // hatch the grey of not-held cells
    bool show_colorbar = true;
    bool show_legend = true;  // only drawn when there are sink/global/window/not-held marks
    // Columns (rows) carry their key_labels (query_labels) as tick labels when
    // there are at most this many; otherwise ticks show positions.
    std::size_t max_label_ticks = 48;
};

// Renders `data` to `path`: PNG, SVG or PDF by extension. Throws
// std::invalid_argument when the data's sizes disagree, std::runtime_error for
// an unknown extension (listing the supported ones) or a path that cannot be
// written (naming it and why; no partial file is left behind).
void render_heatmap(const HeatmapData& data, const HeatmapStyle& style, const std::string& path);

// Writes the values as CSV: a header row "query\key,<key positions...>", then
// one row per query: its position, then the values (empty for NaN, else the
// shortest text that reads back as the same float). Atomic like render_heatmap.
void write_heatmap_csv(const HeatmapData& data, const std::string& path);

// Where the cells land in a render_heatmap image of the same data and style.
struct HeatmapGeometry {
    int width = 0, height = 0;  // the image
    double left = 0, top = 0, right = 0, bottom = 0;  // the cell area, in pixels
    std::size_t n_queries = 0, n_keys = 0;
    // Centre of cell (row query_index, column key_index), in image pixels (x, y).
    std::pair<double, double> cell_center(std::size_t query_index, std::size_t key_index) const {
        const double cw = (right - left) / static_cast<double>(n_keys);
        const double ch = (bottom - top) / static_cast<double>(n_queries);
        return {left + (static_cast<double>(key_index) + 0.5) * cw, top + (static_cast<double>(query_index) + 0.5) * ch};
    }
};
HeatmapGeometry heatmap_geometry(const HeatmapData& data, const HeatmapStyle& style);

}  // namespace kvscope::render
