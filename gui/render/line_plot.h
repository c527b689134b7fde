// Several series over decode steps (KV bytes against the full cache, KL
// divergence, ...) in one line plot.
#pragma once

#include <string>
#include <vector>

namespace kvscope::render {

struct LineSeries {
    std::string name;       // legend entry
    std::vector<double> x;  // empty: 0, 1, 2, ... (steps)
    std::vector<double> y;  // NaN leaves a gap
};

struct LinePlotStyle {
    std::string title;
    std::string x_label = "step";
    std::string y_label;
    int width = 900;
    int height = 500;
    bool log_y = false;
};

// PNG, PDF (or SVG) by extension. Throws std::invalid_argument when a series'
// x and y sizes differ, std::runtime_error like render_heatmap otherwise.
void render_line_plot(const std::vector<LineSeries>& series, const std::string& path, const LinePlotStyle& style = {});

}  // namespace kvscope::render
