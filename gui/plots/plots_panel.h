// The plots over decoding steps beside the main views (DESIGN.md §3 "plots"):
// KV bytes vs a full cache, device (host) memory, ms per token and the
// reference run's quality figures, with a timeline cursor and a one-line
// summary of the cursor's step. The plots stand in a row (under the views) or
// in a column (beside them), as setOrientation says.
#pragma once

#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <cstdint>
#include <memory>
#include <vector>

#include "plots/step_metrics.h"
#include "plots/step_plot.h"
#include "session/step_snapshot.h"

class QCustomPlot;
class QGridLayout;
class QLabel;

namespace kvscope::gui {

class PlotsPanel : public QWidget {
    Q_OBJECT
public:
    explicit PlotsPanel(QWidget* parent = nullptr);
    ~PlotsPanel() override;

    // Drops every step; the cursor goes back to following the latest step.
    void clear();
    // One point per step (attention and cache views are ignored). Steps come
    // in increasing order; one at or before the last recorded step replaces
    // the steps from it on. O(1) amortised: the replot is coalesced (at most
    // one per kRefreshIntervalMs), never a rebuild per step.
    void appendStep(const StepSnapshot& step);
    // Or all at once (opening a saved session, the timeline after a rebuild).
    void setSteps(const std::vector<StepSnapshot>& steps);
    // The timeline cursor: a vertical line at `step` in every plot; the
    // summary describes that step. A negative step follows the latest one
    // (the default, for live decoding).
    void setCursorStep(int32_t step);
    // The backend's device, named in the device plot's title (the trace header's backend).
    void setDeviceName(const QString& name);
    int32_t cursorStep() const;  // the step the cursor stands at; -1 with no steps

    QString summaryText() const;
    QStringList plotNames() const;  // "memory", "device", "speed", "quality"
    // PNG, PDF or SVG by extension (900 x 500 px), written atomically, with
    // `caption` (model, policy, steps) under the title when given; "" or the error.
    QString exportPlot(const QString& name, const QString& path, const QString& caption = {}) const;
    QCustomPlot* plotByName(const QString& name) const;  // nullptr for an unknown name

    // Applies pending appends now (ranges, cursor, summary, replot) instead
    // of at the coalescing timer.
    void refreshNow();
    int32_t stepCount() const { return static_cast<int32_t>(steps_.size()); }
    // How the plots follow each other: a row (Horizontal, the default) or a column.
    void setOrientation(Qt::Orientation orientation);
    Qt::Orientation orientation() const { return orientation_; }

    static constexpr int kRefreshIntervalMs = 40;  // at most 25 replots a second while decoding

signals:
    // A click in a plot, at the recorded step nearest to it (to move the timeline).
    void stepClicked(int32_t step);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void scheduleRefresh();
    void onPlotClicked(QCustomPlot* plot, QMouseEvent* event);
    const StepMetrics* metricsAt(int32_t step) const;  // nullptr when the step is not recorded

    std::vector<StepMetrics> steps_;               // [n_steps] in increasing step order
    std::vector<std::unique_ptr<StepPlot>> plots_;  // [kStepPlotKinds], drawing into the widgets below
    std::vector<QCustomPlot*> widgets_;             // [kStepPlotKinds] owned by this widget
    QLabel* summary_ = nullptr;
    QGridLayout* grid_ = nullptr;
    Qt::Orientation orientation_ = Qt::Horizontal;
    QTimer refresh_timer_;
    int32_t cursor_request_ = -1;  // negative: follow the latest step
};

}  // namespace kvscope::gui
