// The QCustomPlot set-up behind each renderer, for the desktop app to embed
// the same figures interactively. Each fills an empty QCustomPlot.
#pragma once

#include <string>
#include <vector>

#include "render/heatmap_render.h"
#include "render/line_plot.h"
#include "render/scatter_render.h"

class QCustomPlot;
class QCPColorGradient;

namespace kvscope::render {

QCPColorGradient viridis_gradient();

void setup_heatmap_plot(QCustomPlot& plot, const HeatmapData& data, const HeatmapStyle& style);
void setup_pareto_scatter(QCustomPlot& plot, const std::vector<ScatterPoint>& points, const std::string& title,
                          const ScatterStyle& style);
void setup_line_plot(QCustomPlot& plot, const std::vector<LineSeries>& series, const LinePlotStyle& style);

}  // namespace kvscope::render
