#include "render/line_plot.h"

#include <qcustomplot.h>

#include <stdexcept>

#include "render/output.h"
#include "render/plots.h"

namespace kvscope::render {

namespace {
// Tableau 10, the qualitative palette matplotlib uses by default.
const QColor kPalette[] = {
    QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),  QColor(214, 39, 40),   QColor(148, 103, 189),
    QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34), QColor(23, 190, 207),
};

void validate(const std::vector<LineSeries>& series) {
    for (const LineSeries& s : series)
        if (!s.x.empty() && s.x.size() != s.y.size())
            throw std::invalid_argument("line plot: series '" + s.name + "' has " + std::to_string(s.x.size()) +
                                        " x values and " + std::to_string(s.y.size()) + " y values");
}
}  // namespace

void setup_line_plot(QCustomPlot& plot, const std::vector<LineSeries>& series, const LinePlotStyle& style) {
    validate(series);
    plot.xAxis->setLabel(QString::fromStdString(style.x_label));
    plot.yAxis->setLabel(QString::fromStdString(style.y_label));
    if (style.log_y) {
        plot.yAxis->setScaleType(QCPAxis::stLogarithmic);
        plot.yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    }
    std::size_t colour = 0;
    bool any_named = false;
    for (const LineSeries& s : series) {
        auto* graph = plot.addGraph();
        graph->setName(QString::fromStdString(s.name));
        graph->setPen(QPen(kPalette[colour++ % std::size(kPalette)], 2));
        QVector<double> xs(static_cast<qsizetype>(s.y.size())), ys(static_cast<qsizetype>(s.y.size()));
        for (std::size_t i = 0; i < s.y.size(); ++i) {
            xs[static_cast<qsizetype>(i)] = s.x.empty() ? static_cast<double>(i) : s.x[i];
            ys[static_cast<qsizetype>(i)] = s.y[i];
        }
        graph->setData(xs, ys, /*alreadySorted=*/false);
        any_named = any_named || !s.name.empty();
    }
    plot.rescaleAxes();
    plot.yAxis->scaleRange(style.log_y ? 1.2 : 1.08, plot.yAxis->range().center());
    if (!style.title.empty()) {
        plot.plotLayout()->insertRow(0);
        plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QString::fromStdString(style.title),
                                                               QFont(QStringLiteral("sans"), 12, QFont::Bold)));
    }
    plot.legend->setVisible(any_named);
}

void render_line_plot(const std::vector<LineSeries>& series, const std::string& path, const LinePlotStyle& style) {
    const ImageFormat format = format_from_path(path, {ImageFormat::Png, ImageFormat::Pdf, ImageFormat::Svg});
    validate(series);
    ensure_qt_application();
    QCustomPlot plot;
    setup_line_plot(plot, series, style);
    save_plot(plot, path, format, style.width, style.height);
}

}  // namespace kvscope::render
