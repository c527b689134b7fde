#include "heatmap/heatmap_view.h"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include "heatmap/fast_color_map.h"
#include "render/colors.h"
#include "render/heatmap_render.h"
#include "render/plots.h"

namespace kvscope::gui {

namespace {

QColor qcolor(render::Rgb c, int alpha = 255) { return QColor(c.r, c.g, c.b, alpha); }

// Future cells are transparent and show this; it must differ from the grey of
// not-held cells and from every gradient colour.
const QColor kBackground(255, 255, 255);

// Log colour range spans at most this many decades below the maximum: attention
// reaches 1e-30, which would squeeze every visible weight into one colour.
constexpr double kLogDecades = 6;

// Integer ticks (cells), labelled by a callback: key positions across, query
// positions (of the row index) down, with the token when zoomed in.
class CellTicker : public QCPAxisTicker {
public:
    explicit CellTicker(std::function<QString(int32_t)> label) : label_(std::move(label)) {}

protected:
    double getTickStep(const QCPRange& range) override { return std::max(1.0, std::round(QCPAxisTicker::getTickStep(range))); }
    int getSubTickCount(double) override { return 0; }
    QString getTickLabel(double tick, const QLocale&, QChar, int) override {
        return label_(static_cast<int32_t>(std::lround(tick)));
    }

private:
    std::function<QString(int32_t)> label_;
};

QString quoted_token(const std::function<std::string(int32_t)>& token_text, int32_t position) {
    if (!token_text) return {};
    QString t = QString::fromStdString(token_text(position));
    t.replace(QLatin1Char('\n'), QStringLiteral("\\n"));
    return QStringLiteral(" \u201c%1\u201d").arg(t);
}

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    plot_ = new QCustomPlot(this);
    layout->addWidget(plot_);
    plot_->setMouseTracking(true);
    plot_->setToolTip({});  // the hover tooltip is per cell
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->axisRect()->setBackground(kBackground);
    plot_->setAutoAddPlottableToLegend(false);

    for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) {
        axis->grid()->setVisible(false);
        axis->setSubTickLength(0, 0);
    }
    plot_->xAxis->setLabel(QStringLiteral("key position"));
    plot_->yAxis->setLabel(QStringLiteral("query position"));
    plot_->yAxis->setRangeReversed(true);  // query 0 at the top
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new CellTicker([this](int32_t k) {
        const bool close = plot_->xAxis->range().size() <= 24;  // few columns: room for the token
        return close ? QString::number(k) + quoted_token(token_text_, k) : QString::number(k);
    })));
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new CellTicker([this](int32_t row) {
        if (matrix_ == nullptr || row < 0 || row >= std::min(visible_rows_, matrix_->rows())) return QString();
        const int32_t q = matrix_->query_position(row);
        const bool close = plot_->yAxis->range().size() <= 40;
        return close ? QString::number(q) + quoted_token(token_text_, q) : QString::number(q);
    })));

    map_ = new FastColorMap(plot_->xAxis, plot_->yAxis);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->axis()->setLabel(QStringLiteral("attention"));
    map_->setColorScale(scale_);  // link first: the map then passes its gradient and range to the scale
    QCPColorGradient gradient = render::viridis_gradient();
    gradient.setNanHandling(QCPColorGradient::nhNanColor);
    gradient.setNanColor(qcolor(render::kNotHeldGrey));
    map_->setGradient(gradient);
    auto* margins = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    scale_->setMarginGroup(QCP::msTop | QCP::msBottom, margins);

    title_ = new QCPTextElement(plot_, QString(), QFont(QStringLiteral("sans"), 11, QFont::Bold));
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, title_);
    title_->setVisible(false);

    window_edge_ = new QCPCurve(plot_->xAxis, plot_->yAxis);
    window_edge_->setPen(QPen(qcolor(render::kWindowEdgeColor), 2));
    window_edge_->setName(QStringLiteral("window edge"));
    // Sink / global columns: a vertical line over the rows where the key was
    // held in that role (segments separated by NaN points).
    sink_lines_ = new QCPCurve(plot_->xAxis, plot_->yAxis);
    sink_lines_->setPen(QPen(qcolor(render::kSinkColor, 170), 1));
    sink_lines_->setObjectName(QStringLiteral("sinkLines"));
    global_lines_ = new QCPCurve(plot_->xAxis, plot_->yAxis);
    global_lines_->setPen(QPen(qcolor(render::kGlobalColor, 170), 1, Qt::DashLine));
    global_lines_->setObjectName(QStringLiteral("globalLines"));
    for (QCPAbstractPlottable* p : std::initializer_list<QCPAbstractPlottable*>{window_edge_, sink_lines_, global_lines_})
        p->setSelectable(QCP::stNone);

    // Replots started by zooming / panning are timed here; redraw() times its own.
    connect(plot_, &QCustomPlot::beforeReplot, this, [this] { replot_timer_.start(); });
    connect(plot_, &QCustomPlot::afterReplot, this,
            [this] { last_redraw_ms_ = static_cast<double>(replot_timer_.nsecsElapsed()) / 1e6; });
    connect(plot_, &QCustomPlot::afterLayout, this, &HeatmapView::rebuildIfNeeded);
    connect(plot_, &QCustomPlot::mouseMove, this, &HeatmapView::onMouseMove);
    plot_->setToolTipDuration(-1);
    // (No static tooltip: it would cover the per-cell one.)
    setWhatsThis(tr("Attention of each query token (rows) to each key position (columns). Grey: not held, "
                    "white: future. Wheel: zoom, drag: pan, hover: tokens and weight."));
    setMinimumSize(200, 150);
}

QCPColorMap* HeatmapView::colorMap() const { return map_; }

void HeatmapView::setMatrix(const AttentionMatrix* matrix, int32_t visible_rows,
                            std::function<std::string(int32_t)> token_text) {
    if (matrix != nullptr && (visible_rows < 0 || visible_rows > matrix->rows()))
        throw std::invalid_argument("heatmap: " + std::to_string(visible_rows) + " visible rows of a matrix of " +
                                    std::to_string(matrix->rows()));
    matrix_ = matrix;
    visible_rows_ = matrix == nullptr ? 0 : visible_rows;
    token_text_ = std::move(token_text);
    built_ = BuildKey{};
    resetZoom();
}

void HeatmapView::refresh(int32_t visible_rows) {
    if (matrix_ == nullptr) return;
    if (visible_rows < 0 || visible_rows > matrix_->rows())
        throw std::invalid_argument("heatmap: " + std::to_string(visible_rows) + " visible rows of a matrix of " +
                                    std::to_string(matrix_->rows()));
    const bool follow = showsFullExtent();
    visible_rows_ = visible_rows;
    if (follow) {
        double x_lo, x_hi, y_lo, y_hi;
        fullExtent(x_lo, x_hi, y_lo, y_hi);
        plot_->xAxis->setRange(x_lo, x_hi);
        plot_->yAxis->setRange(y_lo, y_hi);
    }
    redraw();
}

void HeatmapView::clear() {
    matrix_ = nullptr;
    visible_rows_ = 0;
    token_text_ = nullptr;
    built_ = BuildKey{};
    grid_ = LodGrid{};
    resetZoom();
}

void HeatmapView::setLogScale(bool log) {
    if (log == log_scale_) return;
    log_scale_ = log;
    scale_->setDataScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    scale_->axis()->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                  : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    redraw();
}

void HeatmapView::setTitle(const QString& title) {
    title_->setText(title);
    title_->setVisible(!title.isEmpty());
    redraw();
}

void HeatmapView::fullExtent(double& x_lo, double& x_hi, double& y_lo, double& y_hi) const {
    const int32_t keys = visible_rows_ > 0 ? matrix_->query_position(visible_rows_ - 1) + 1 : 1;
    x_lo = -0.5;
    x_hi = keys - 0.5;
    y_lo = -0.5;
    y_hi = std::max(visible_rows_, 1) - 0.5;
}

bool HeatmapView::showsFullExtent() const {
    if (matrix_ == nullptr) return true;
    double x_lo, x_hi, y_lo, y_hi;
    fullExtent(x_lo, x_hi, y_lo, y_hi);
    const QCPRange x = plot_->xAxis->range(), y = plot_->yAxis->range();
    return std::abs(x.lower - x_lo) < 1e-6 && std::abs(x.upper - x_hi) < 1e-6 && std::abs(y.lower - y_lo) < 1e-6 &&
           std::abs(y.upper - y_hi) < 1e-6;
}

void HeatmapView::resetZoom() {
    double x_lo = -0.5, x_hi = 0.5, y_lo = -0.5, y_hi = 0.5;
    if (matrix_ != nullptr) fullExtent(x_lo, x_hi, y_lo, y_hi);
    plot_->xAxis->setRange(x_lo, x_hi);
    plot_->yAxis->setRange(y_lo, y_hi);
    redraw();
}

void HeatmapView::redraw() {
    QElapsedTimer timer;
    timer.start();
    plot_->replot(QCustomPlot::rpImmediateRefresh);
    last_redraw_ms_ = static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

HeatmapView::BuildKey HeatmapView::buildKey() const {
    BuildKey key;
    key.valid = true;
    key.matrix = matrix_;
    key.generation = matrix_ == nullptr ? 0 : matrix_->generation();
    key.log = log_scale_;
    if (matrix_ == nullptr || visible_rows_ == 0) return key;
    const int32_t keys = matrix_->query_position(visible_rows_ - 1) + 1;
    const QCPRange x = plot_->xAxis->range(), y = plot_->yAxis->range();
    auto clamp_index = [](double coord, int32_t n) {
        return static_cast<int32_t>(std::clamp(std::floor(coord + 0.5), 0.0, static_cast<double>(n - 1)));
    };
    LodRequest& r = key.request;
    r.visible_rows = visible_rows_;
    r.first_key = clamp_index(x.lower, keys);
    r.last_key = clamp_index(x.upper, keys);
    r.first_row = clamp_index(y.lower, visible_rows_);
    r.last_row = clamp_index(y.upper, visible_rows_);
    const double dpr = devicePixelRatioF();
    const QRect area = plot_->axisRect()->rect();
    r.max_width = std::max(1, static_cast<int32_t>(std::ceil(area.width() * dpr)));
    r.max_height = std::max(1, static_cast<int32_t>(std::ceil(area.height() * dpr)));
    // The grid reads whole pyramid blocks (at most 64 rows/keys) around the
    // view; when those lie below the last visible row and key, more rows
    // cannot change it.
    constexpr int32_t kLargestBlock = 64;
    const bool independent = (r.last_row / kLargestBlock + 1) * kLargestBlock <= visible_rows_ &&
                             (r.last_key / kLargestBlock + 1) * kLargestBlock <= keys &&
                             r.last_key < keys - 1 && r.last_row < visible_rows_ - 1;
    key.rows_dependency = independent ? -1 : visible_rows_;
    return key;
}

// Runs inside every replot once the layout (hence the plot area's size) is
// known and before anything is drawn.
void HeatmapView::rebuildIfNeeded() {
    if (matrix_ != nullptr && visible_rows_ > matrix_->rows()) {
        // The matrix was cleared behind the view's back (it should have been
        // handed over again with setMatrix): show what is left, never throw
        // from inside a replot.
        qWarning("heatmap: the matrix shrank to %d rows under a view of %d; showing %d", matrix_->rows(),
                 visible_rows_, matrix_->rows());
        visible_rows_ = matrix_->rows();
    }
    QElapsedTimer timer;
    timer.start();
    bool rebuilt = false;
    // A new colour range changes the colour bar's labels, which may resize the
    // plot area laid out just before: lay out again (as replot() does) and
    // rebuild for the new size if it changed the grid's bounds.
    for (int pass = 0; pass < 3; ++pass) {
        const BuildKey key = buildKey();
        if (key == built_) break;
        built_ = key;
        grid_ = key.request.visible_rows == 0 ? LodGrid{} : build_lod_grid(*matrix_, key.request);
        const QCPRange range_before = map_->dataRange();
        fillColorMap();
        updateMarks();
        rebuilt = true;
        ++rebuild_count_;
        if (map_->dataRange() == range_before) break;
        for (auto phase : {QCPLayoutElement::upPreparation, QCPLayoutElement::upMargins, QCPLayoutElement::upLayout})
            plot_->plotLayout()->update(phase);
    }
    if (rebuilt) last_rebuild_ms_ = static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

void HeatmapView::fillColorMap() {
    DirectColorMapData* map_data = map_->directData();
    if (grid_.width == 0 || grid_.height == 0) {
        map_->setVisible(false);
        return;
    }
    map_->setVisible(true);
    // Colour range over the held cells shown.
    float lo = std::numeric_limits<float>::infinity(), hi = -lo, lo_positive = lo;
    bool any_future = false;
    for (float v : grid_.cells) {
        if (v == kCellFuture) {
            any_future = true;
            continue;
        }
        if (v == kCellNotHeld) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        if (v > 0) lo_positive = std::min(lo_positive, v);
    }
    double range_lo, range_hi;
    if (log_scale_) {
        range_hi = std::isfinite(hi) && hi > 0 ? hi : 1.0;
        range_lo = std::isfinite(lo_positive) ? std::max<double>(lo_positive, range_hi * std::pow(10.0, -kLogDecades))
                                              : range_hi * std::pow(10.0, -kLogDecades);
        if (range_lo >= range_hi) range_lo = range_hi / 10;
    } else {
        range_lo = std::isfinite(lo) ? std::min(0.0f, lo) : 0.0;
        range_hi = std::isfinite(hi) ? hi : 1.0;
        if (range_hi <= range_lo) range_hi = range_lo + 1;
    }

    // QCustomPlot sizes cells from the distance between the first and last
    // centres, so a single column (row) is stored twice, each half as wide.
    const int32_t w = grid_.width, h = grid_.height;
    const int32_t key_cells = std::max(w, 2), row_cells = std::max(h, 2);
    // Grid cells are drawn evenly over the key/row span they cover (their
    // widths differ by at most one pyramid block, below a pixel when pooled).
    const double x0 = grid_.key_edges.front() - 0.5, x1 = grid_.key_edges.back() - 0.5;
    const double y0 = grid_.row_edges.front() - 0.5, y1 = grid_.row_edges.back() - 0.5;
    const double cw = (x1 - x0) / key_cells, ch = (y1 - y0) / row_cells;
    map_data->setSize(key_cells, row_cells);
    map_data->setRange(QCPRange(x0 + cw / 2, x1 - cw / 2), QCPRange(y0 + ch / 2, y1 - ch / 2));
    double* values = map_data->values();
    unsigned char* alpha = nullptr;
    if (any_future) alpha = map_data->alpha();
    else map_data->dropAlpha();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int32_t y = 0; y < row_cells; ++y) {
        const float* src = grid_.cells.data() + static_cast<std::size_t>(h == 1 ? 0 : y) * static_cast<std::size_t>(w);
        const std::size_t out = static_cast<std::size_t>(y) * static_cast<std::size_t>(key_cells);
        for (int32_t x = 0; x < key_cells; ++x) {
            const float v = src[w == 1 ? 0 : x];
            double& d = values[out + static_cast<std::size_t>(x)];
            if (v == kCellFuture) d = range_lo;
            else if (v == kCellNotHeld) d = nan;
            else d = log_scale_ ? std::max<double>(v, range_lo) : v;  // log: values <= 0 at the bottom
            if (alpha != nullptr) alpha[out + static_cast<std::size_t>(x)] = v == kCellFuture ? 0 : 255;
        }
    }
    map_data->setModified(true);
    map_->setDataRange(QCPRange(range_lo, range_hi));
}

void HeatmapView::updateMarks() {
    window_edge_->data()->clear();
    sink_lines_->data()->clear();
    global_lines_->data()->clear();
    if (grid_.width == 0) return;
    // Window edge: per grid row, the window start of its first matrix row, as a
    // vertical stroke at the left edge of that key; rows without a window
    // break the staircase (NaN points make gaps).
    QVector<QCPCurveData> edge;
    edge.reserve(grid_.height * 2 + 2);
    double t = 0;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int32_t y = 0; y < grid_.height; ++y) {
        const int32_t first = grid_.row_edges[static_cast<std::size_t>(y)];
        const int32_t end = grid_.row_edges[static_cast<std::size_t>(y) + 1];
        const int32_t start = matrix_->window_start(first);
        if (start < 0) {
            edge.append(QCPCurveData(t++, nan, nan));
            continue;
        }
        edge.append(QCPCurveData(t++, start - 0.5, first - 0.5));
        edge.append(QCPCurveData(t++, start - 0.5, end - 0.5));
    }
    window_edge_->data()->set(edge, true);

    const int32_t keys = matrix_->query_position(visible_rows_ - 1) + 1;
    for (const auto& [spans, curve] : {std::pair{&matrix_->sink_spans(), sink_lines_},
                                       std::pair{&matrix_->global_spans(), global_lines_}}) {
        QVector<QCPCurveData> segments;
        double s_index = 0;
        for (const render::MarkSpan& m : *spans) {
            if (m.key >= keys || m.first_row >= visible_rows_) continue;
            const int32_t last = std::min(m.last_row, visible_rows_ - 1);
            segments.append(QCPCurveData(s_index++, m.key, m.first_row - 0.5));
            segments.append(QCPCurveData(s_index++, m.key, last + 0.5));
            segments.append(QCPCurveData(s_index++, nan, nan));  // a break before the next span
        }
        curve->data()->set(segments, true);
    }
}

QString HeatmapView::cellText(int32_t row, int32_t key) const {
    if (matrix_ == nullptr || row < 0 || row >= std::min(visible_rows_, matrix_->rows()) || key < 0 ||
        matrix_->is_future(row, key))
        return {};
    const int32_t q = matrix_->query_position(row);
    const float v = matrix_->value(row, key);
    const QString weight = std::isnan(v) ? tr("not held (evicted or never kept)") : QString::number(v, 'g', 4);
    return tr("query %1%2\nkey %3%4\nweight %5")
        .arg(q)
        .arg(quoted_token(token_text_, q))
        .arg(key)
        .arg(quoted_token(token_text_, key))
        .arg(weight);
}

void HeatmapView::onMouseMove(QMouseEvent* event) {
    if (matrix_ == nullptr || event->buttons() != Qt::NoButton) return;  // dragging pans
    const QPointF p = event->position();
    if (!plot_->axisRect()->rect().contains(p.toPoint())) {
        QToolTip::hideText();
        return;
    }
    const auto row = static_cast<int32_t>(std::floor(plot_->yAxis->pixelToCoord(p.y()) + 0.5));
    const auto key = static_cast<int32_t>(std::floor(plot_->xAxis->pixelToCoord(p.x()) + 0.5));
    const QString text = cellText(row, key);
    if (text.isEmpty()) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint(), text, plot_);
    emit cellHovered(matrix_->query_position(row), key, matrix_->value(row, key));
}

QString HeatmapView::exportImage(const QString& path, const QString& caption) const {
    if (matrix_ == nullptr || visible_rows_ == 0) return tr("nothing to export: the heatmap is empty");
    try {
        render::HeatmapStyle style;
        style.width = std::max(width(), 1000);
        style.height = std::max(height(), 800);
        style.scale = log_scale_ ? render::ColorScale::Log : render::ColorScale::Linear;
        if (log_scale_) {
            style.value_min = map_->dataRange().lower;
            style.value_max = map_->dataRange().upper;
        }
        render::HeatmapData figure = matrix_->to_heatmap_data(visible_rows_, token_text_, title_->text().toStdString());
        figure.caption = caption.toStdString();
        render::render_heatmap(figure, style, path.toStdString());
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

QString HeatmapView::exportCsv(const QString& path) const {
    if (matrix_ == nullptr || visible_rows_ == 0) return tr("nothing to export: the heatmap is empty");
    try {
        render::write_heatmap_csv(matrix_->to_heatmap_data(visible_rows_), path.toStdString());
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace kvscope::gui
