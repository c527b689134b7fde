// KV-cache size against perplexity, one point per configuration, with the
// Pareto front (smaller cache and lower perplexity are both better) drawn.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

class QCustomPlot;

namespace kvscope::render {

struct ScatterPoint {
    std::string label;  // e.g. the policy and budget; drawn next to the point
    double x = 0;       // KV cache bytes
    double y = 0;       // perplexity
};

// Indices of the points no other point beats on both x and y (minimising both;
// a point equal to another on both is kept with it), ordered by ascending x
// (then y, then index). Points with a NaN coordinate are never on the front.
std::vector<std::size_t> pareto_front(const std::vector<ScatterPoint>& points);

struct ScatterStyle {
    int width = 900;
    int height = 650;
    std::string x_label = "KV cache";  // a unit (B, KiB, MiB, GiB) is appended from the data
    std::string y_label = "perplexity";
    bool log_x = false;
    bool label_points = true;
};

// Places the point labels of a plot set up by setup_pareto_scatter so that no
// two overlap, for its current layout (the plot calls it after each layout;
// exposed for tests). A label with no free place beside its point is hidden.
void place_point_labels(QCustomPlot& plot);

// PNG, PDF (or SVG) by extension; throws like render_heatmap.
void render_pareto_scatter(const std::vector<ScatterPoint>& points, const std::string& path,
                           const std::string& title, const ScatterStyle& style = {});

}  // namespace kvscope::render
