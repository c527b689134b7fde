#include "plots/plots_panel.h"

#include <QGridLayout>
#include <QLabel>
#include <QResizeEvent>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "plots/step_summary.h"
#include "render/output.h"

namespace kvscope::gui {

namespace {
constexpr int kExportWidth = 900;
constexpr int kExportHeight = 500;
}  // namespace

PlotsPanel::PlotsPanel(QWidget* parent) : QWidget(parent) {
    auto* grid = new QGridLayout;
    grid_ = grid;
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(4);
    for (StepPlotKind kind : kStepPlotKinds) {
        auto* plot = new QCustomPlot(this);
        plot->setObjectName(step_plot_id(kind) + QStringLiteral("Plot"));
        plot->setMinimumSize(220, 150);  // device-independent pixels
        plot->setToolTip(step_plot_tooltip(kind));
        plot->setNoAntialiasingOnDrag(true);
        widgets_.push_back(plot);
        plots_.push_back(std::make_unique<StepPlot>(*plot, kind));
        connect(plot, &QCustomPlot::mousePress, this, [this, plot](QMouseEvent* e) { onPlotClicked(plot, e); });
        plot->installEventFilter(this);  // resizes: ticks and legend rows follow the width
    }
    setOrientation(Qt::Horizontal);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("plotsSummary"));
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setTextFormat(Qt::PlainText);
    summary_->setWordWrap(true);
    summary_->setToolTip(QStringLiteral("The step under the timeline cursor: KV cache held vs a full cache, device (or "
                                        "host) memory, time per token and, with the reference run, KL divergence and "
                                        "running top-1 agreement"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(grid, 1);
    layout->addWidget(summary_);

    refresh_timer_.setSingleShot(true);
    refresh_timer_.setInterval(kRefreshIntervalMs);
    connect(&refresh_timer_, &QTimer::timeout, this, &PlotsPanel::refreshNow);
    refreshNow();
}

PlotsPanel::~PlotsPanel() = default;

void PlotsPanel::clear() {
    steps_.clear();
    cursor_request_ = -1;  // a new run: follow its latest step
    for (auto& p : plots_) p->clear();
    scheduleRefresh();
}

void PlotsPanel::appendStep(const StepSnapshot& step) {
    if (!steps_.empty() && step.step <= steps_.back().step) {
        // A step again (the timeline was rewound): drop it and what followed.
        const auto from = std::lower_bound(steps_.begin(), steps_.end(), step.step,
                                           [](const StepMetrics& m, int32_t s) { return m.step < s; });
        steps_.erase(from, steps_.end());
        for (auto& p : plots_) p->truncateFrom(step.step, steps_);
    }
    steps_.push_back(step_metrics(step, steps_.empty() ? nullptr : &steps_.back()));
    for (auto& p : plots_) p->append(steps_.back());
    scheduleRefresh();
}

void PlotsPanel::setSteps(const std::vector<StepSnapshot>& steps) {
    clear();
    steps_.reserve(steps.size());
    for (const StepSnapshot& s : steps) appendStep(s);
    refreshNow();
}

void PlotsPanel::setDeviceName(const QString& name) {
    for (auto& p : plots_) p->setDeviceName(name);
    scheduleRefresh();
}

void PlotsPanel::setCursorStep(int32_t step) {
    cursor_request_ = step < 0 ? -1 : step;
    scheduleRefresh();
}

int32_t PlotsPanel::cursorStep() const {
    if (cursor_request_ >= 0) return cursor_request_;
    return steps_.empty() ? -1 : steps_.back().step;
}

const StepMetrics* PlotsPanel::metricsAt(int32_t step) const {
    const auto it = std::lower_bound(steps_.begin(), steps_.end(), step,
                                     [](const StepMetrics& m, int32_t s) { return m.step < s; });
    return it != steps_.end() && it->step == step ? &*it : nullptr;
}

QString PlotsPanel::summaryText() const {
    // The first thing a newcomer reads after the prompt ran: what to press.
    if (steps_.empty())
        return tr("No steps yet. Press Step (Space) for one token or Run (Enter) to keep going; "
                  "change the cache policy on the left at any time.");
    const int32_t step = cursorStep();
    if (const StepMetrics* m = metricsAt(step)) return step_summary(*m);
    return QStringLiteral("step %1: not recorded (steps %2 to %3)").arg(step).arg(steps_.front().step).arg(steps_.back().step);
}

QStringList PlotsPanel::plotNames() const {
    QStringList names;
    for (StepPlotKind kind : kStepPlotKinds) names << step_plot_id(kind);
    return names;
}

QCustomPlot* PlotsPanel::plotByName(const QString& name) const {
    for (size_t i = 0; i < plots_.size(); ++i)
        if (step_plot_id(plots_[i]->kind()) == name) return widgets_[i];
    return nullptr;
}

QString PlotsPanel::exportPlot(const QString& name, const QString& path, const QString& caption) const {
    const auto it = std::find_if(std::begin(kStepPlotKinds), std::end(kStepPlotKinds),
                                 [&](StepPlotKind k) { return step_plot_id(k) == name; });
    if (it == std::end(kStepPlotKinds))
        return QStringLiteral("unknown plot '%1' (plots: %2)").arg(name, plotNames().join(QStringLiteral(", ")));
    try {
        const render::ImageFormat format =
            render::format_from_path(path.toStdString(),
                                     {render::ImageFormat::Png, render::ImageFormat::Pdf, render::ImageFormat::Svg});
        // Drawn from the recorded steps into an offscreen copy at a fixed
        // size, so the on-screen plot keeps its size and zoom.
        QCustomPlot copy;
        StepPlot plot(copy, *it);
        for (const StepMetrics& m : steps_) plot.append(m);
        plot.setCursor(cursorStep());
        plot.updateRanges();
        plot.fitToWidth(kExportWidth);
        if (!caption.isEmpty()) {  // under the title: what run this is
            copy.plotLayout()->insertRow(1);
            copy.plotLayout()->addElement(1, 0, new QCPTextElement(&copy, caption, QFont(QStringLiteral("sans"), 9)));
        }
        render::save_plot(copy, path.toStdString(), format, kExportWidth, kExportHeight);
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

void PlotsPanel::setOrientation(Qt::Orientation orientation) {
    orientation_ = orientation;
    for (QCustomPlot* w : widgets_) grid_->removeWidget(w);
    for (size_t i = 0; i < widgets_.size(); ++i) {
        const int n = static_cast<int>(i);
        if (orientation == Qt::Horizontal) grid_->addWidget(widgets_[i], 0, n);
        else grid_->addWidget(widgets_[i], n, 0);
    }
    // Stretch only along the plots' own direction.
    for (int n = 0; n < static_cast<int>(widgets_.size()); ++n) {
        grid_->setColumnStretch(n, orientation == Qt::Horizontal ? 1 : 0);
        grid_->setRowStretch(n, orientation == Qt::Vertical ? 1 : 0);
    }
    // Stacked, the plots share their x axis, which the dock's title names
    // ("Plots over steps"): the height of the axis labels goes to the data.
    for (QCustomPlot* w : widgets_) w->xAxis->setLabel(orientation == Qt::Horizontal ? QStringLiteral("step") : QString());
    // The outer layout caches its sizes until the event loop activates it; a
    // window laid out before that (the first show) must see the new ones.
    if (layout() != nullptr) layout()->invalidate();
    updateGeometry();
}

bool PlotsPanel::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Resize) {
        for (size_t i = 0; i < widgets_.size(); ++i)
            if (widgets_[i] == watched) plots_[i]->fitToWidth(static_cast<QResizeEvent*>(event)->size().width());
    }
    return QWidget::eventFilter(watched, event);
}

void PlotsPanel::scheduleRefresh() {
    if (!refresh_timer_.isActive()) refresh_timer_.start();
}

void PlotsPanel::refreshNow() {
    refresh_timer_.stop();
    const int32_t cursor = cursorStep();
    for (auto& p : plots_) {
        p->setCursor(cursor);
        p->updateRanges();
        p->plot().replot(QCustomPlot::rpQueuedReplot);
    }
    summary_->setText(summaryText());
}

void PlotsPanel::onPlotClicked(QCustomPlot* plot, QMouseEvent* event) {
    if (steps_.empty() || event->button() != Qt::LeftButton) return;
    const double x = plot->xAxis->pixelToCoord(event->position().x());
    // The recorded step nearest to x.
    const auto after = std::lower_bound(steps_.begin(), steps_.end(), x,
                                        [](const StepMetrics& m, double v) { return m.step < v; });
    int32_t step = after == steps_.end() ? steps_.back().step : after->step;
    if (after != steps_.begin() && after != steps_.end() && x - std::prev(after)->step < after->step - x)
        step = std::prev(after)->step;
    emit stepClicked(step);
}

}  // namespace kvscope::gui
