#include "render/heatmap_render.h"

#include <QImage>
#include <QPainter>
#include <QPixmap>
#include <QSaveFile>
#include <qcustomplot.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "render/colors.h"
#include "render/output.h"
#include "render/plots.h"

namespace kvscope::render {

namespace {

QColor qcolor(Rgb c) { return QColor(c.r, c.g, c.b); }

void validate(const HeatmapData& d) {
    const std::size_t nq = d.query_positions.size(), nk = d.key_positions.size();
    if (d.values.size() != nq * nk)
        throw std::invalid_argument("heatmap: " + std::to_string(d.values.size()) + " values for " +
                                   std::to_string(nq) + " queries x " + std::to_string(nk) + " keys");
    if (!d.query_labels.empty() && d.query_labels.size() != nq)
        throw std::invalid_argument("heatmap: " + std::to_string(d.query_labels.size()) + " query labels for " +
                                   std::to_string(nq) + " queries");
    if (!d.key_labels.empty() && d.key_labels.size() != nk)
        throw std::invalid_argument("heatmap: " + std::to_string(d.key_labels.size()) + " key labels for " +
                                   std::to_string(nk) + " keys");
}

// Rounds up to 1, 2 or 5 times a power of ten.
int64_t nice_step(double raw) {
    if (raw <= 1) return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) return static_cast<int64_t>(m * magnitude);
    return static_cast<int64_t>(10 * magnitude);
}

// Ticks at cell indices, labelled with the token texts when there are few
// cells, else with positions at round numbers.
QSharedPointer<QCPAxisTickerText> position_ticker(const std::vector<int32_t>& positions,
                                                  const std::vector<std::string>& labels, std::size_t max_label_ticks) {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->setSubTickCount(0);
    const std::size_t n = positions.size();
    if (n == 0) return ticker;
    if (!labels.empty() && n <= max_label_ticks) {
        for (std::size_t i = 0; i < n; ++i) ticker->addTick(static_cast<double>(i), QString::fromStdString(labels[i]));
        return ticker;
    }
    std::unordered_map<int32_t, std::size_t> index_of;
    for (std::size_t i = 0; i < n; ++i) index_of.emplace(positions[i], i);
    const auto [lo_it, hi_it] = std::minmax_element(positions.begin(), positions.end());
    const int64_t lo = *lo_it, hi = *hi_it;
    const int64_t step = nice_step(static_cast<double>(hi - lo) / 8.0);
    int ticks = 0;
    const int64_t first = lo >= 0 ? (lo + step - 1) / step * step : -((-lo) / step * step);  // first multiple >= lo
    for (int64_t p = first; p <= hi; p += step) {
        auto it = index_of.find(static_cast<int32_t>(p));
        if (it == index_of.end()) continue;
        ticker->addTick(static_cast<double>(it->second), QString::number(p));
        ++ticks;
    }
    if (ticks < 2) {  // positions too sparse for round numbers: evenly spaced cells
        ticker->clear();
        const std::size_t every = std::max<std::size_t>(1, (n + 7) / 8);
        for (std::size_t i = 0; i < n; i += every)
            ticker->addTick(static_cast<double>(i), QString::number(positions[i]));
    }
    return ticker;
}

// A rectangle of marked cells: columns [c0, c1] by rows [r0, r1] (indices).
struct MarkBox {
    std::size_t c0 = 0, c1 = 0;
    int32_t r0 = 0, r1 = 0;
};

// The marks as boxes: neighbouring columns marked over the same rows (four
// sinks kept from the start) share one box. Marks of keys not shown, or of
// rows outside [0, n_rows), are dropped.
std::vector<MarkBox> mark_boxes(const std::vector<MarkSpan>& marks,
                                const std::unordered_map<int32_t, std::size_t>& column_of, std::size_t n_rows) {
    std::vector<MarkBox> boxes;
    for (const MarkSpan& m : marks) {
        const auto it = column_of.find(m.key);
        if (it == column_of.end() || m.first_row < 0 || m.last_row < m.first_row || static_cast<std::size_t>(m.last_row) >= n_rows)
            continue;
        boxes.push_back(MarkBox{it->second, it->second, m.first_row, m.last_row});
    }
    std::sort(boxes.begin(), boxes.end(), [](const MarkBox& a, const MarkBox& b) {
        return std::tie(a.r0, a.r1, a.c0) < std::tie(b.r0, b.r1, b.c0);
    });
    std::vector<MarkBox> merged;
    for (const MarkBox& b : boxes) {
        if (!merged.empty() && merged.back().r0 == b.r0 && merged.back().r1 == b.r1 && merged.back().c1 + 1 == b.c0)
            merged.back().c1 = b.c0;
        else
            merged.push_back(b);
    }
    return merged;
}

QBrush not_held_brush(bool hatched) {
    if (!hatched) return QBrush(qcolor(kNotHeldGrey));
    QPixmap tile(8, 8);
    tile.fill(qcolor(kNotHeldGrey));
    QPainter painter(&tile);
    painter.setPen(QPen(qcolor(kNotHeldHatch), 1));
    painter.drawLine(0, 7, 7, 0);
    painter.end();
    return QBrush(tile);
}

// The colour range: the style's, else the data's.
std::pair<double, double> value_range(const HeatmapData& d, const HeatmapStyle& s) {
    const bool log = s.scale == ColorScale::Log;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (float v : d.values) {
        if (!std::isfinite(v) || (log && v <= 0)) continue;
        lo = std::min(lo, static_cast<double>(v));
        hi = std::max(hi, static_cast<double>(v));
    }
    if (lo > hi) {  // nothing to scale by
        lo = log ? 1e-3 : 0.0;
        hi = 1.0;
    }
    if (std::isfinite(s.value_min)) lo = s.value_min;
    if (std::isfinite(s.value_max)) hi = s.value_max;
    if (log && lo <= 0) throw std::invalid_argument("heatmap: a log colour scale needs a positive minimum");
    if (hi < lo) std::swap(lo, hi);
    if (hi == lo) {
        if (log) {
            lo /= 10;
            hi *= 10;
        } else {
            lo -= 0.5;
            hi += 0.5;
        }
    }
    return {lo, hi};
}

void add_legend_entry(QCustomPlot& plot, const QString& name, const QPen& pen, const QBrush& brush) {
    auto* dummy = new QCPBars(plot.xAxis, plot.yAxis);  // no data: only its legend icon shows
    dummy->setName(name);
    dummy->setPen(pen);
    dummy->setBrush(brush);
    dummy->addToLegend();
}

}  // namespace

void setup_heatmap_plot(QCustomPlot& plot, const HeatmapData& d, const HeatmapStyle& s) {
    validate(d);
    const std::size_t nq = d.query_positions.size(), nk = d.key_positions.size();
    const bool log = s.scale == ColorScale::Log;
    plot.setAutoAddPlottableToLegend(false);
    QCPAxisRect* rect = plot.axisRect();

    // Axes: one unit per cell, cell centres at integers, queries top to bottom.
    for (QCPAxis* axis : {plot.xAxis, plot.yAxis}) {
        axis->grid()->setVisible(false);
        axis->setTickLength(0, 4);
        axis->setSubTickLength(0, 0);
    }
    plot.xAxis->setLabel(QStringLiteral("key position"));
    plot.yAxis->setLabel(QStringLiteral("query position"));
    plot.xAxis->setRange(-0.5, std::max<double>(static_cast<double>(nk), 1.0) - 0.5);
    plot.yAxis->setRange(-0.5, std::max<double>(static_cast<double>(nq), 1.0) - 0.5);
    plot.yAxis->setRangeReversed(true);
    plot.xAxis->setTicker(position_ticker(d.key_positions, d.key_labels, s.max_label_ticks));
    plot.yAxis->setTicker(position_ticker(d.query_positions, d.query_labels, s.max_label_ticks));
    if (!d.key_labels.empty() && nk <= s.max_label_ticks) plot.xAxis->setTickLabelRotation(90);

    // Not-held cells are transparent in the map and show the axis rect's grey.
    const bool any_not_held = std::any_of(d.values.begin(), d.values.end(), [](float v) { return std::isnan(v); });
    const QBrush grey = not_held_brush(s.hatch_not_held);
    rect->setBackground(grey);

    const auto [lo, hi] = value_range(d, s);
    auto* map = new QCPColorMap(plot.xAxis, plot.yAxis);
    map->setInterpolate(false);
    map->setTightBoundary(false);
    // Linking a colour scale makes the map take the scale's gradient and range:
    // link first, then set them (they propagate to the scale).
    QCPColorScale* scale = s.show_colorbar ? new QCPColorScale(&plot) : nullptr;
    if (scale != nullptr) map->setColorScale(scale);
    QCPColorGradient gradient = viridis_gradient();
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    map->setGradient(gradient);
    map->setDataScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (nq > 0 && nk > 0) {
        // QCustomPlot needs two cells along an axis to size them: a single
        // row or column is stored twice, each half a unit wide.
        const int key_cells = nk == 1 ? 2 : static_cast<int>(nk);
        const int value_cells = nq == 1 ? 2 : static_cast<int>(nq);
        QCPColorMapData* data = map->data();
        data->setSize(key_cells, value_cells);
        data->setRange(nk == 1 ? QCPRange(-0.25, 0.25) : QCPRange(0, static_cast<double>(nk - 1)),
                       nq == 1 ? QCPRange(-0.25, 0.25) : QCPRange(0, static_cast<double>(nq - 1)));
        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (int q = 0; q < value_cells; ++q) {
            const float* row = d.values.data() + (nq == 1 ? 0 : static_cast<std::size_t>(q)) * nk;
            for (int k = 0; k < key_cells; ++k) {
                const float v = row[nk == 1 ? 0 : k];
                data->setCell(k, q, std::isnan(v) ? nan : std::clamp(static_cast<double>(v), lo, hi));
            }
        }
    }
    map->setDataRange(QCPRange(lo, hi));

    int row = 0;
    if (!d.title.empty()) {
        plot.plotLayout()->insertRow(row);
        plot.plotLayout()->addElement(row++, 0, new QCPTextElement(&plot, QString::fromStdString(d.title),
                                                                   QFont(QStringLiteral("sans"), 12, QFont::Bold)));
    }
    if (!d.caption.empty()) {
        plot.plotLayout()->insertRow(row);
        plot.plotLayout()->addElement(row++, 0, new QCPTextElement(&plot, QString::fromStdString(d.caption),
                                                                   QFont(QStringLiteral("sans"), 9)));
    }
    if (scale != nullptr) {
        plot.plotLayout()->addElement(row, 1, scale);
        scale->setType(QCPAxis::atRight);
        scale->axis()->setLabel(QString::fromStdString(s.value_label));
        if (log) scale->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        auto* group = new QCPMarginGroup(&plot);
        rect->setMarginGroup(QCP::msTop | QCP::msBottom, group);
        scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    }

    // Sink and global marks: each key outlined over the rows where it was held in that role.
    const QPen sink_pen(qcolor(kSinkColor), 2, Qt::SolidLine);
    const QPen global_pen(qcolor(kGlobalColor), 2, Qt::DashLine);
    std::unordered_map<int32_t, std::size_t> column_of;
    for (std::size_t k = 0; k < nk; ++k) column_of.emplace(d.key_positions[k], k);
    const std::vector<MarkBox> sink_boxes = mark_boxes(d.sink_marks, column_of, nq);
    const std::vector<MarkBox> global_boxes = mark_boxes(d.global_marks, column_of, nq);
    for (const auto& [boxes, pen] : {std::pair{&sink_boxes, sink_pen}, std::pair{&global_boxes, global_pen}}) {
        for (const MarkBox& b : *boxes) {
            auto* outline = new QCPItemRect(&plot);
            outline->topLeft->setCoords(static_cast<double>(b.c0) - 0.5, static_cast<double>(b.r0) - 0.5);
            outline->bottomRight->setCoords(static_cast<double>(b.c1) + 0.5, static_cast<double>(b.r1) + 0.5);
            outline->setPen(pen);
            outline->setBrush(Qt::NoBrush);
        }
    }
    const bool any_sink = !sink_boxes.empty(), any_global = !global_boxes.empty();

    // Window edge: per row, a vertical stroke at the left edge of the first
    // key inside the window; consecutive rows join into a staircase.
    const QPen edge_pen(qcolor(kWindowEdgeColor), 2);
    bool any_edge = false;
    if (!d.window_edges.empty() && nk > 0) {
        std::unordered_map<int32_t, std::size_t> row_of;
        for (std::size_t i = 0; i < nq; ++i) row_of.emplace(d.query_positions[i], i);
        const bool sorted = std::is_sorted(d.key_positions.begin(), d.key_positions.end());
        std::vector<std::pair<std::size_t, double>> edges;  // (row, x of the edge)
        for (const auto& [query, first_key] : d.window_edges) {
            auto it = row_of.find(query);
            if (it == row_of.end()) continue;
            std::size_t column;
            if (sorted) {
                column = static_cast<std::size_t>(
                    std::lower_bound(d.key_positions.begin(), d.key_positions.end(), first_key) - d.key_positions.begin());
            } else {
                column = static_cast<std::size_t>(
                    std::find(d.key_positions.begin(), d.key_positions.end(), first_key) - d.key_positions.begin());
                if (column == nk) continue;
            }
            edges.emplace_back(it->second, static_cast<double>(column) - 0.5);
        }
        std::sort(edges.begin(), edges.end());
        QCPCurve* curve = nullptr;
        std::size_t previous_row = 0;
        double t = 0;
        for (const auto& [r, x] : edges) {
            if (curve == nullptr || r != previous_row + 1) {
                curve = new QCPCurve(plot.xAxis, plot.yAxis);
                curve->setPen(edge_pen);
                curve->setBrush(Qt::NoBrush);
                curve->setLineStyle(QCPCurve::lsLine);
            }
            curve->addData(t++, x, static_cast<double>(r) - 0.5);
            curve->addData(t++, x, static_cast<double>(r) + 0.5);
            previous_row = r;
            any_edge = true;
        }
    }

    const bool any_mark = any_sink || any_global || any_edge || any_not_held;
    if (s.show_legend && any_mark) {
        if (any_sink) add_legend_entry(plot, QStringLiteral("sink"), sink_pen, Qt::NoBrush);
        if (any_global) add_legend_entry(plot, QStringLiteral("global"), global_pen, Qt::NoBrush);
        if (any_edge) {
            auto* dummy = new QCPGraph(plot.xAxis, plot.yAxis);
            dummy->setName(QStringLiteral("window edge"));
            dummy->setPen(edge_pen);
            dummy->addToLegend();
        }
        if (any_not_held) add_legend_entry(plot, QStringLiteral("not held"), QPen(Qt::NoPen), grey);
        rect->insetLayout()->take(plot.legend);
        plot.plotLayout()->addElement(row + 1, 0, plot.legend);
        plot.plotLayout()->setRowStretchFactor(row + 1, 0.001);
        plot.legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
        plot.legend->setBorderPen(Qt::NoPen);
        plot.legend->setVisible(true);
    }
}

void render_heatmap(const HeatmapData& data, const HeatmapStyle& style, const std::string& path) {
    const ImageFormat format = format_from_path(path, {ImageFormat::Png, ImageFormat::Svg, ImageFormat::Pdf});
    validate(data);
    ensure_qt_application();
    QCustomPlot plot;
    HeatmapStyle s = style;
    // SVG has no pattern fills (QSvgGenerator drops texture brushes, leaving
    // the not-held cells and their legend swatch empty): plain grey there.
    if (format == ImageFormat::Svg) s.hatch_not_held = false;
    setup_heatmap_plot(plot, data, s);
    save_plot(plot, path, format, s.width, s.height);
}

HeatmapGeometry heatmap_geometry(const HeatmapData& data, const HeatmapStyle& style) {
    ensure_qt_application();
    QCustomPlot plot;
    setup_heatmap_plot(plot, data, style);
    plot.resize(style.width, style.height);
    plot.setViewport(QRect(0, 0, style.width, style.height));
    {
        QImage scratch(style.width, style.height, QImage::Format_RGB32);  // drawing lays the plot out
        QCPPainter painter(&scratch);
        plot.toPainter(&painter, style.width, style.height);
    }
    HeatmapGeometry g;
    g.width = style.width;
    g.height = style.height;
    g.n_queries = data.query_positions.size();
    g.n_keys = data.key_positions.size();
    g.left = plot.xAxis->coordToPixel(-0.5);
    g.right = plot.xAxis->coordToPixel(static_cast<double>(g.n_keys) - 0.5);
    g.top = plot.yAxis->coordToPixel(-0.5);
    g.bottom = plot.yAxis->coordToPixel(static_cast<double>(g.n_queries) - 0.5);
    return g;
}

void write_heatmap_csv(const HeatmapData& d, const std::string& path) {
    validate(d);
    std::string text = "query\\key";
    for (int32_t k : d.key_positions) {
        text += ',';
        text += std::to_string(k);
    }
    text += "\n";
    const std::size_t nk = d.key_positions.size();
    for (std::size_t q = 0; q < d.query_positions.size(); ++q) {
        text += std::to_string(d.query_positions[q]);
        for (std::size_t k = 0; k < nk; ++k) {
            text += ",";
            const float v = d.values[q * nk + k];
            if (std::isnan(v)) continue;
            char buffer[32];
            const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
            text.append(buffer, result.ptr);
        }
        text += "\n";
    }
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly))
        throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
    if (file.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()) ||
        !file.commit())
        throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
}

}  // namespace kvscope::render
