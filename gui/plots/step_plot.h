// One plot over decoding steps (x = step), drawn into a QCustomPlot it does
// not own: the live plots of PlotsPanel and the offscreen copies made for
// export share this code.
#pragma once

#include <QString>

#include <cstdint>
#include <limits>
#include <vector>

#include "plots/step_metrics.h"

class QCustomPlot;
class QCPItemStraightLine;
class QCPItemText;

namespace kvscope::gui {

enum class StepPlotKind {
    Memory,   // KV bytes held vs a full cache's (MiB)
    Device,   // device (or host RSS) memory used / total and the weights (GiB)
    Speed,    // ms per token, stacked by phase
    Quality,  // reference run: KL, running top-1 agreement, attention cosine, evicted attention mass
};
inline constexpr StepPlotKind kStepPlotKinds[] = {StepPlotKind::Memory, StepPlotKind::Device, StepPlotKind::Speed,
                                                  StepPlotKind::Quality};

QString step_plot_id(StepPlotKind kind);  // "memory", "device", "speed", "quality"
QString step_plot_tooltip(StepPlotKind kind);

class StepPlot {
public:
    // Sets the plot up: axes, empty named graphs, the cursor line (objectName
    // "stepCursor") and, for Quality, the note "reference run off"
    // (objectName "referenceOffNote").
    StepPlot(QCustomPlot& plot, StepPlotKind kind);

    StepPlotKind kind() const { return kind_; }
    QCustomPlot& plot() const { return plot_; }

    // Adds this step's points. Steps must come in increasing order (the
    // caller truncates first when they do not): QCustomPlot appends a key
    // past the last at O(1) amortised, and the extent is tracked here, so no
    // pass over the data is made. Quality: a step without the reference run,
    // once a step with it was seen, adds NaN points (a break in every line);
    // a non-finite KL is drawn as a break too. Non-finite values never reach
    // the axis ranges.
    void append(const StepMetrics& m);
    // Drops the points of steps >= step; `kept` (the steps that remain, in
    // order) gives the extent back.
    void truncateFrom(int32_t step, const std::vector<StepMetrics>& kept);
    void clear();

    // The vertical line at `step`; hidden for a negative step.
    void setCursor(int32_t step);
    // Axis ranges from the tracked extent (cheap: no pass over the data) and
    // the "reference run off" note's visibility (shown while no step had the
    // reference run). Does not replot.
    void updateRanges();
    // Lays the plot out for a width of `width` pixels: about one x tick per
    // kPixelsPerTick, and as many legend entries per row as fit whole (the
    // legend below the axes wraps onto more rows instead of clipping names).
    // Does not replot.
    void fitToWidth(int width);
    static constexpr int kPixelsPerTick = 64;
    // The device's name for the Device plot's title ("CUDA 0 (NVIDIA H200)"); "" = none.
    void setDeviceName(const QString& name);

private:
    void setDeviceLabels(bool device_is_host);
    void showLegendBelow(bool show);  // the legend in a row of its own under the axes, or out of the layout
    void track(const StepMetrics& m);  // extends the extent by this step's values

    QCustomPlot& plot_;
    StepPlotKind kind_;
    QCPItemStraightLine* cursor_ = nullptr;
    QCPItemText* reference_off_note_ = nullptr;  // Quality only
    // Extent of the data drawn: steps and the largest value on the left axis.
    int32_t first_step_ = 0;
    int32_t last_step_ = -1;
    bool empty_ = true;
    bool has_any_reference_ = false;  // a step with ReferenceMetrics was recorded
    double y_max_ = 0;
    double y_min_positive_ = std::numeric_limits<double>::infinity();  // Device (log axis): the smallest value > 0
    int device_is_host_ = -1;  // -1: no step seen yet (labels say "device memory")
    QString device_name_;
};

}  // namespace kvscope::gui
