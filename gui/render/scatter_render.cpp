#include "render/scatter_render.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "render/output.h"
#include "render/plots.h"

namespace kvscope::render {

std::vector<std::size_t> pareto_front(const std::vector<ScatterPoint>& points) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < points.size(); ++i)
        if (!std::isnan(points[i].x) && !std::isnan(points[i].y)) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (points[a].x != points[b].x) return points[a].x < points[b].x;
        if (points[a].y != points[b].y) return points[a].y < points[b].y;
        return a < b;
    });
    // Sweeping by ascending x, a point is on the front when its y beats every
    // y before it, or when it repeats the last front point exactly.
    std::vector<std::size_t> front;
    double best_y = std::numeric_limits<double>::infinity();
    for (std::size_t i : order) {
        const ScatterPoint& p = points[i];
        if (p.y < best_y) {
            front.push_back(i);
            best_y = p.y;
        } else if (!front.empty() && p.x == points[front.back()].x && p.y == points[front.back()].y) {
            front.push_back(i);
        }
    }
    return front;
}

namespace {

// Bytes shown in the largest binary unit that keeps the biggest value >= 1.
std::pair<double, QString> byte_unit(const std::vector<ScatterPoint>& points) {
    double max = 0;
    for (const ScatterPoint& p : points)
        if (std::isfinite(p.x)) max = std::max(max, std::abs(p.x));
    if (max >= 1024.0 * 1024 * 1024) return {1024.0 * 1024 * 1024, QStringLiteral("GiB")};
    if (max >= 1024.0 * 1024) return {1024.0 * 1024, QStringLiteral("MiB")};
    if (max >= 1024.0) return {1024.0, QStringLiteral("KiB")};
    return {1.0, QStringLiteral("B")};
}

constexpr const char* kPointX = "kvscopePointX";  // a label's point, in plot coordinates
constexpr const char* kPointY = "kvscopePointY";

}  // namespace

void place_point_labels(QCustomPlot& plot) {
    // Each label goes to the first of a few places beside its point (right
    // above, right below, left above, left below, then further up and down)
    // where it overlaps no label placed before it; a label with no free place
    // is hidden (the sweep's table lists every row).
    std::vector<QRectF> taken;
    const QRectF area = plot.axisRect()->rect();
    for (int i = 0; i < plot.itemCount(); ++i) {
        auto* text = qobject_cast<QCPItemText*>(plot.item(i));
        if (text == nullptr || !text->property(kPointX).isValid()) continue;
        const double px = plot.xAxis->coordToPixel(text->property(kPointX).toDouble());
        const double py = plot.yAxis->coordToPixel(text->property(kPointY).toDouble());
        const QFontMetricsF fm(text->font());
        const QSizeF size(fm.horizontalAdvance(text->text()) + 6, fm.height() + 2);
        const double gap = 4;
        const QPointF candidates[] = {
            {px + gap, py - gap - size.height()}, {px + gap, py + gap},
            {px - gap - size.width(), py - gap - size.height()}, {px - gap - size.width(), py + gap},
            {px + gap, py - gap - 2 * size.height()}, {px + gap, py + gap + size.height()},
            {px - gap - size.width(), py - gap - 2 * size.height()}, {px - gap - size.width(), py + gap + size.height()},
        };
        bool placed = false;
        for (const QPointF& c : candidates) {
            const QRectF r(c, size);
            if (!area.contains(r)) continue;
            if (std::any_of(taken.begin(), taken.end(), [&r](const QRectF& t) { return t.intersects(r); })) continue;
            taken.push_back(r);
            text->position->setType(QCPItemPosition::ptAbsolute);
            text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
            text->position->setCoords(c.x(), c.y());
            placed = true;
            break;
        }
        text->setVisible(placed);
    }
}

void setup_pareto_scatter(QCustomPlot& plot, const std::vector<ScatterPoint>& points, const std::string& title,
                          const ScatterStyle& style) {
    plot.setAutoAddPlottableToLegend(false);
    const auto [divisor, unit] = byte_unit(points);
    plot.xAxis->setLabel(QString::fromStdString(style.x_label) + " (" + unit + ")");
    plot.yAxis->setLabel(QString::fromStdString(style.y_label));
    if (style.log_x) {
        plot.xAxis->setScaleType(QCPAxis::stLogarithmic);
        plot.xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    }

    auto* all = new QCPGraph(plot.xAxis, plot.yAxis);
    all->setName(QStringLiteral("configuration"));
    all->setLineStyle(QCPGraph::lsNone);
    all->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(31, 119, 180), 7));
    auto* front = new QCPCurve(plot.xAxis, plot.yAxis);  // a curve keeps the front's order
    front->setName(QStringLiteral("Pareto front"));
    front->setPen(QPen(QColor(214, 39, 40), 2));
    front->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(214, 39, 40), 2), QBrush(Qt::NoBrush), 11));
    all->addToLegend();
    front->addToLegend();

    for (const ScatterPoint& p : points) all->addData(p.x / divisor, p.y);
    double t = 0;
    for (std::size_t i : pareto_front(points)) front->addData(t++, points[i].x / divisor, points[i].y);

    if (style.label_points) {
        for (const ScatterPoint& p : points) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y) || p.label.empty()) continue;
            auto* text = new QCPItemText(&plot);
            text->setProperty(kPointX, p.x / divisor);
            text->setProperty(kPointY, p.y);
            text->position->setCoords(p.x / divisor, p.y);
            text->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            text->setPadding(QMargins(3, 1, 3, 1));
            text->setText(QString::fromStdString(p.label));
            text->setFont(QFont(QStringLiteral("sans"), 8));
            text->setClipToAxisRect(false);
        }
        // Placed anew at every layout (size or range change): no two labels overlap.
        QObject::connect(&plot, &QCustomPlot::afterLayout, &plot, [&plot] { place_point_labels(plot); });
    }
    all->rescaleAxes();
    // Room around the points, and for the labels on the right.
    plot.xAxis->scaleRange(style.log_x ? 1.3 : 1.15, plot.xAxis->range().center());
    plot.yAxis->scaleRange(1.15, plot.yAxis->range().center());

    if (!title.empty()) {
        plot.plotLayout()->insertRow(0);
        plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QString::fromStdString(title),
                                                               QFont(QStringLiteral("sans"), 12, QFont::Bold)));
    }
    plot.legend->setVisible(true);
    plot.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
}

void render_pareto_scatter(const std::vector<ScatterPoint>& points, const std::string& path, const std::string& title,
                           const ScatterStyle& style) {
    const ImageFormat format = format_from_path(path, {ImageFormat::Png, ImageFormat::Pdf, ImageFormat::Svg});
    ensure_qt_application();
    QCustomPlot plot;
    setup_pareto_scatter(plot, points, title, style);
    save_plot(plot, path, format, style.width, style.height);
}

}  // namespace kvscope::render
