#include "plots/step_plot.h"

#include <qcustomplot.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "render/byte_format.h"
#include "render/colors.h"
#include "render/plots.h"

namespace kvscope::gui {

namespace {

// Graph order of each plot (indices into QCustomPlot::graph()).
enum MemoryGraph { kKvHeld = 0, kKvFull = 1 };
enum DeviceGraph { kDeviceUsed = 0, kDeviceTotal = 1, kWeights = 2 };
// Speed graphs are cumulative: graph i draws the sum of phases 0..i, filled
// down to graph i − 1, so the top line is the whole time per token.
enum SpeedGraph { kForward = 0, kPolicy = 1, kCapture = 2, kSample = 3, kReference = 4, kSpeedGraphs = 5 };
enum QualityGraph { kKl = 0, kTop1 = 1, kCosine = 2, kEvictedMass = 3 };

const char* const kSpeedPhaseNames[kSpeedGraphs] = {"forward", "policy", "attention capture", "sampling",
                                                    "reference run"};

QColor qcolor(render::Rgb c, int alpha = 255) { return QColor(c.r, c.g, c.b, alpha); }

render::LinePlotStyle style(const char* title, const char* y_label) {
    render::LinePlotStyle s;
    s.title = title;
    s.x_label = "step";
    s.y_label = y_label;
    return s;
}

std::vector<render::LineSeries> named(std::initializer_list<const char*> names) {
    std::vector<render::LineSeries> series;
    for (const char* n : names) series.push_back(render::LineSeries{n, {}, {}});
    return series;
}

// The phases in stacking order, cumulative: [kSpeedGraphs].
std::array<double, kSpeedGraphs> stacked_ms(const StepTimings& t) {
    const double phases[kSpeedGraphs] = {t.forward_ms, t.policy_ms, t.capture_ms, t.sample_ms, t.reference_ms};
    std::array<double, kSpeedGraphs> out{};
    double sum = 0;
    for (int i = 0; i < kSpeedGraphs; ++i) out[static_cast<size_t>(i)] = sum += phases[i];
    return out;
}

}  // namespace

QString step_plot_id(StepPlotKind kind) {
    switch (kind) {
        case StepPlotKind::Memory: return QStringLiteral("memory");
        case StepPlotKind::Device: return QStringLiteral("device");
        case StepPlotKind::Speed: return QStringLiteral("speed");
        case StepPlotKind::Quality: return QStringLiteral("quality");
    }
    return {};
}

QString step_plot_tooltip(StepPlotKind kind) {
    switch (kind) {
        case StepPlotKind::Memory:
            return QStringLiteral("K and V bytes the cache holds after each step, against what a full cache would hold "
                                  "for the same text");
        case StepPlotKind::Device:
            return QStringLiteral("Memory in use and in total on the backend's device (the process's resident set on the "
                                  "CPU backend), and the model weights");
        case StepPlotKind::Speed:
            return QStringLiteral("Milliseconds each token took, stacked by phase: forward pass, cache policy, attention "
                                  "capture, sampling and the reference run");
        case StepPlotKind::Quality:
            return QStringLiteral("The policy against a full-cache reference run fed the same tokens: KL divergence of the "
                                  "next-token distributions (left axis), running top-1 agreement, attention cosine and the "
                                  "attention mass on evicted positions (right axis). Needs the reference run.");
    }
    return {};
}

StepPlot::StepPlot(QCustomPlot& plot, StepPlotKind kind) : plot_(plot), kind_(kind) {
    switch (kind) {
        case StepPlotKind::Memory:
            render::setup_line_plot(plot, named({"KV held", "full cache"}), style("KV cache vs full", "MiB"));
            break;
        case StepPlotKind::Device: {
            // Logarithmic: the machine's total (tens of GiB) would flatten the
            // process's use and the weights (a few hundred MiB) onto the axis.
            render::LinePlotStyle s = style("device memory", "GiB");
            s.log_y = true;
            render::setup_line_plot(plot, named({"used", "total", "weights"}), s);
            break;
        }
        case StepPlotKind::Speed: {
            render::setup_line_plot(plot, named({}), style("time per token", "ms per token"));
            for (int i = 0; i < kSpeedGraphs; ++i) {
                QCPGraph* g = plot.addGraph();
                g->setName(QString::fromLatin1(kSpeedPhaseNames[i]));
                const render::Rgb c = render::viridis(0.1 + 0.8 * i / (kSpeedGraphs - 1));
                g->setPen(QPen(qcolor(c), 1.5));
                g->setBrush(QBrush(qcolor(c, 110)));
                if (i > 0) g->setChannelFillGraph(plot.graph(i - 1));
            }
            plot.legend->setVisible(true);
            break;
        }
        case StepPlotKind::Quality: {
            render::setup_line_plot(plot,
                                    named({"KL(full \u2016 policy)", "top-1 agreement (running)", "attention cosine",
                                           "evicted attention mass"}),
                                    style("reference run", "KL (nats)"));
            for (int g : {kTop1, kCosine, kEvictedMass}) plot.graph(g)->setValueAxis(plot.yAxis2);
            plot.yAxis2->setVisible(true);
            plot.yAxis2->setLabel(QStringLiteral("fraction"));
            plot.yAxis2->setRange(0, 1.05);
            reference_off_note_ = new QCPItemText(&plot);
            reference_off_note_->setObjectName(QStringLiteral("referenceOffNote"));
            reference_off_note_->position->setType(QCPItemPosition::ptAxisRectRatio);
            reference_off_note_->position->setCoords(0.5, 0.5);
            reference_off_note_->setPositionAlignment(Qt::AlignCenter);
            reference_off_note_->setText(QStringLiteral("reference run off"));
            reference_off_note_->setColor(QColor(110, 110, 110));
            reference_off_note_->setFont(QFont(QStringLiteral("sans"), 11, QFont::Bold));
            break;
        }
    }
    // A live plot is one of four in a column: a title a little smaller than an exported figure's.
    if (auto* title = qobject_cast<QCPTextElement*>(plot.plotLayout()->element(0, 0)))
        title->setFont(QFont(QStringLiteral("sans"), 10, QFont::Bold));
    QFont legend_font = plot.legend->font();
    legend_font.setPointSizeF(std::max(6.0, legend_font.pointSizeF() * 0.8));
    plot.legend->setFont(legend_font);
    plot.legend->setBrush(Qt::NoBrush);
    plot.legend->setBorderPen(Qt::NoPen);
    // The plots are short (a dock ~150 px high): a legend inside the axis rect
    // would hide the data. It goes below the axes instead, in columns.
    if (plot.axisRect()->insetLayout()->take(plot.legend)) {
        plot.axisRect()->insetLayout()->simplify();
        plot.legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
        plot.legend->setWrap(3);
        plot.legend->setMargins(QMargins(2, 0, 2, 0));
        showLegendBelow(true);
    }

    // Steps are whole numbers: ticks at multiples of 1 (then 2, 5, 10, ...),
    // never at 0.2 or 2.5.
    QSharedPointer<QCPAxisTickerFixed> step_ticker(new QCPAxisTickerFixed);
    step_ticker->setTickStep(1.0);
    step_ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    plot.xAxis->setTicker(step_ticker);
    fitToWidth(plot.width());

    cursor_ = new QCPItemStraightLine(&plot);
    cursor_->setObjectName(QStringLiteral("stepCursor"));
    cursor_->setPen(QPen(qcolor(render::kWindowEdgeColor), 1.5, Qt::DashLine));
    cursor_->setVisible(false);
    updateRanges();
}

void StepPlot::showLegendBelow(bool show) {
    // A hidden layout element keeps its row's height in QCustomPlot: the
    // legend leaves the layout when hidden, so the axes get that room.
    QCPLayoutGrid* layout = plot_.plotLayout();
    const bool placed = layout->hasElement(layout->rowCount() - 1, 0) &&
                        layout->element(layout->rowCount() - 1, 0) == plot_.legend;
    if (show && !placed) {
        const int row = layout->rowCount();
        layout->insertRow(row);
        layout->addElement(row, 0, plot_.legend);
        layout->setRowStretchFactor(row, 0.001);
    } else if (!show && placed) {
        layout->take(plot_.legend);
        layout->simplify();
    }
    plot_.legend->setVisible(show);
}

void StepPlot::fitToWidth(int width) {
    if (width <= 0) return;
    const QMargins m = plot_.axisRect()->margins();
    const int axis_width = std::max(1, width - m.left() - m.right());
    plot_.xAxis->ticker()->setTickCount(std::clamp(axis_width / kPixelsPerTick, 2, 12));
    // Legend entries per row (a wrapped grid has empty cells: item() is null there).
    // The most entries per row whose columns (each as wide as its widest
    // entry, entries filling rows first) fit the width.
    const QMargins lm = plot_.legend->margins();
    const int room = std::max(1, width - lm.left() - lm.right() - 8);
    std::vector<int> widths;
    for (int i = 0; i < plot_.legend->itemCount(); ++i)
        if (const QCPAbstractLegendItem* item = plot_.legend->item(i)) widths.push_back(item->minimumOuterSizeHint().width());
    int per_row = 1;
    for (int n = static_cast<int>(widths.size()); n > 1; --n) {
        std::vector<int> column(static_cast<size_t>(n), 0);  // [n] widest entry of each column
        for (size_t i = 0; i < widths.size(); ++i) {
            int& c = column[i % static_cast<size_t>(n)];
            c = std::max(c, widths[i]);
        }
        int total = (n - 1) * plot_.legend->columnSpacing();
        for (int w : column) total += w;
        if (total <= room) {
            per_row = n;
            break;
        }
    }
    if (per_row != plot_.legend->wrap()) {
        plot_.legend->setWrap(per_row);
        plot_.legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, /*rearrange=*/true);
    }
}

void StepPlot::setDeviceName(const QString& name) {
    device_name_ = name;
    if (kind_ == StepPlotKind::Device && device_is_host_ >= 0) setDeviceLabels(device_is_host_ == 1);
}

void StepPlot::setDeviceLabels(bool device_is_host) {
    device_is_host_ = device_is_host ? 1 : 0;
    // On the CPU backend the "device" is the host: its figures are the
    // process's resident set and the machine's RAM, not VRAM.
    const QString name = device_is_host ? QStringLiteral("host memory (RSS)") : QStringLiteral("VRAM");
    plot_.yAxis->setLabel(QStringLiteral("GiB"));  // the title names what is measured
    plot_.graph(kDeviceUsed)->setName(device_is_host ? QStringLiteral("host memory (RSS)") : QStringLiteral("VRAM used"));
    plot_.graph(kDeviceTotal)->setName(device_is_host ? QStringLiteral("host RAM total") : QStringLiteral("VRAM total"));
    if (auto* title = qobject_cast<QCPTextElement*>(plot_.plotLayout()->element(0, 0)))
        title->setText(device_is_host ? QStringLiteral("host memory (CPU backend)")
                       : device_name_.isEmpty() ? QStringLiteral("device memory (VRAM)")
                                                : QStringLiteral("VRAM: %1").arg(device_name_));
    fitToWidth(plot_.width());  // the names changed width
}

void StepPlot::append(const StepMetrics& m) {
    const double x = m.step;
    switch (kind_) {
        case StepPlotKind::Memory:
            plot_.graph(kKvHeld)->addData(x, static_cast<double>(m.memory.kv_bytes) / render::kMiB);
            plot_.graph(kKvFull)->addData(x, static_cast<double>(m.memory.kv_full_bytes) / render::kMiB);
            break;
        case StepPlotKind::Device:
            if (device_is_host_ != (m.memory.device_is_host ? 1 : 0)) setDeviceLabels(m.memory.device_is_host);
            plot_.graph(kDeviceUsed)->addData(x, static_cast<double>(m.memory.device_used) / render::kGiB);
            plot_.graph(kWeights)->addData(x, static_cast<double>(m.memory.weights_bytes) / render::kGiB);
            if (m.memory.device_total > 0)  // 0: the backend could not tell
                plot_.graph(kDeviceTotal)->addData(x, static_cast<double>(m.memory.device_total) / render::kGiB);
            break;
        case StepPlotKind::Speed: {
            const auto cumulative = stacked_ms(m.timings);
            for (int i = 0; i < kSpeedGraphs; ++i) plot_.graph(i)->addData(x, cumulative[static_cast<size_t>(i)]);
            break;
        }
        case StepPlotKind::Quality: {
            constexpr double kGap = std::numeric_limits<double>::quiet_NaN();  // QCustomPlot breaks a line at NaN
            if (!m.has_reference) {
                // A step without the reference run: a NaN point, so the lines
                // stop here instead of joining across the gap. Before the
                // first reference step there is no line to break and the plot
                // stays empty (with its "reference run off" note).
                if (has_any_reference_)
                    for (int g : {kKl, kTop1, kCosine, kEvictedMass}) plot_.graph(g)->addData(x, kGap);
                break;
            }
            // An infinite KL (the policy gave the full cache's token zero
            // probability) cannot be drawn: it breaks the line like a gap;
            // the summary line gives the value.
            plot_.graph(kKl)->addData(x, std::isfinite(m.kl) ? m.kl : kGap);
            plot_.graph(kTop1)->addData(x, m.running_top1());
            plot_.graph(kCosine)->addData(x, m.attention_cosine);
            plot_.graph(kEvictedMass)->addData(x, m.evicted_attention_mass);
            break;
        }
    }
    track(m);
}

void StepPlot::track(const StepMetrics& m) {
    double top = 0;  // the largest value this step puts on the left axis
    switch (kind_) {
        case StepPlotKind::Memory:
            top = static_cast<double>(std::max(m.memory.kv_bytes, m.memory.kv_full_bytes)) / render::kMiB;
            break;
        case StepPlotKind::Device:
            top = static_cast<double>(std::max({m.memory.device_used, m.memory.weights_bytes, m.memory.device_total})) / render::kGiB;
            for (uint64_t v : {m.memory.device_used, m.memory.weights_bytes, m.memory.device_total})
                if (v > 0) y_min_positive_ = std::min(y_min_positive_, static_cast<double>(v) / render::kGiB);
            break;
        case StepPlotKind::Speed: top = stacked_ms(m.timings).back(); break;
        case StepPlotKind::Quality:
            // Steps without a reference still extend the x range, so every
            // plot's cursor sits at the same place.
            if (m.has_reference) top = m.kl;
            break;
    }
    // A non-finite value (an infinite KL, a NaN timing) would make the range
    // invalid: QCPAxis::setRange ignores it and the axis would stop following
    // the data.
    if (std::isfinite(top)) y_max_ = std::max(y_max_, top);
    has_any_reference_ = has_any_reference_ || m.has_reference;
    if (empty_) first_step_ = m.step;
    empty_ = false;
    last_step_ = m.step;
}

void StepPlot::truncateFrom(int32_t step, const std::vector<StepMetrics>& kept) {
    for (int i = 0; i < plot_.graphCount(); ++i) plot_.graph(i)->data()->removeAfter(step - 0.5);
    empty_ = true;
    has_any_reference_ = false;
    first_step_ = 0;
    last_step_ = -1;
    y_max_ = 0;
    y_min_positive_ = std::numeric_limits<double>::infinity();
    for (const StepMetrics& m : kept) track(m);
}

void StepPlot::clear() {
    for (int i = 0; i < plot_.graphCount(); ++i) plot_.graph(i)->data()->clear();
    empty_ = true;
    has_any_reference_ = false;
    first_step_ = 0;
    last_step_ = -1;
    y_max_ = 0;
    y_min_positive_ = std::numeric_limits<double>::infinity();
}

void StepPlot::setCursor(int32_t step) {
    cursor_->setVisible(step >= 0);
    if (step < 0) return;
    cursor_->point1->setCoords(step, 0);
    cursor_->point2->setCoords(step, 1);
}

void StepPlot::updateRanges() {
    // A single step still gets a range one step wide; the last step sits a
    // little inside the right edge.
    const double lo = empty_ ? 0 : first_step_;
    const double hi = empty_ ? 1 : std::max<double>(last_step_, first_step_ + 1);
    const double pad = 0.02 * (hi - lo);
    plot_.xAxis->setRange(lo - pad, hi + pad);
    if (kind_ == StepPlotKind::Device) {
        const bool any = y_max_ > 0 && std::isfinite(y_min_positive_);
        plot_.yAxis->setRange(any ? y_min_positive_ / 1.6 : 0.01, any ? y_max_ * 1.6 : 100.0);
    } else {
        plot_.yAxis->setRange(0, y_max_ > 0 ? y_max_ * 1.1 : 1.0);
    }
    if (reference_off_note_ != nullptr) {
        // No reference step recorded: the note takes the legend's place.
        const bool off = !has_any_reference_;
        reference_off_note_->setVisible(off);
        showLegendBelow(!off);
    }
}

}  // namespace kvscope::gui
