#pragma once
// The interactive attention heatmap: query tokens down (query 0 at the top),
// key positions across, viridis colours with a colour bar (linear or log),
// not-held cells in a grey outside the gradient, future cells left as the
// background, the sliding window's edge as an orange staircase, sink (red) and
// global (magenta) columns as thin lines. Wheel zooms, drag pans; hovering a
// cell shows its query token, key token and weight.
//
// Redraws cost the plot's pixel count, not the matrix size: the colour map is
// filled from a max-pooled grid no larger than the plot area (heatmap_lod.h),
// at full resolution once zoomed in to fewer cells than pixels, and rebuilt
// only when the visible range, the plot size or the scale changed, or rows
// were added near the part in view. Big maps are coloured by FastColorMap.
#include <QElapsedTimer>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <string>

#include "core/attention_matrix.h"
#include "core/heatmap_lod.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPCurve;
class QCPGraph;
class QCPTextElement;
class QMouseEvent;

namespace kvscope::gui {

class FastColorMap;

class HeatmapView : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapView(QWidget* parent = nullptr);

    // Shows `matrix` (not owned; valid until the next setMatrix/clear) with rows
    // [0, visible_rows) (the timeline shows the matrix as it was at an earlier
    // step). token_text(position) gives the tooltip/tick text of a position.
    // The view zooms out to the whole matrix. visible_rows outside
    // [0, matrix->rows()] throws std::invalid_argument.
    void setMatrix(const AttentionMatrix* matrix, int32_t visible_rows,
                   std::function<std::string(int32_t)> token_text);
    // Rows were appended / the cursor moved: redraw cheaply. A view showing the
    // whole matrix keeps showing all of it; a zoomed view keeps its range.
    void refresh(int32_t visible_rows);
    void clear();
    void setLogScale(bool log);
    bool logScale() const { return log_scale_; }
    void setTitle(const QString& title);
    void resetZoom();
    // PNG/SVG/PDF by extension via render::render_heatmap, titled as shown
    // with `caption` (model, policy, step) as a second line when given; "" or
    // the error text.
    QString exportImage(const QString& path, const QString& caption = {}) const;
    // The visible matrix via render::write_heatmap_csv; "" or the error text.
    QString exportCsv(const QString& path) const;

    QCustomPlot* plot() const { return plot_; }
    QCPColorMap* colorMap() const;
    QCPColorScale* colorScale() const { return scale_; }
    const LodGrid& grid() const { return grid_; }  // what the colour map shows now
    double lastRedrawMs() const { return last_redraw_ms_; }      // wall time of the last rebuild + replot
    double lastRebuildMs() const { return last_rebuild_ms_; }    // of which filling the colour map
    int64_t rebuildCount() const { return rebuild_count_; }      // colour-map rebuilds so far
    int32_t visibleRows() const { return visible_rows_; }
    // The tooltip text of a cell ("" outside the visible matrix or in its future).
    QString cellText(int32_t row, int32_t key_position) const;

signals:
    void cellHovered(int32_t query_position, int32_t key_position, float value);  // also shown as a QToolTip

private:
    void rebuildIfNeeded();      // on every replot, after the layout: fills the map for the current ranges
    void fillColorMap();         // grid_ -> colour map data, range and marks
    void updateMarks();          // window edge, sink and global lines for grid_
    void redraw();               // replot now, timing it
    void fullExtent(double& x_lo, double& x_hi, double& y_lo, double& y_hi) const;
    bool showsFullExtent() const;
    void onMouseMove(QMouseEvent* event);

    QCustomPlot* plot_ = nullptr;
    FastColorMap* map_ = nullptr;
    QCPColorScale* scale_ = nullptr;
    QCPCurve* window_edge_ = nullptr;
    QCPCurve* sink_lines_ = nullptr;    // where each sink was held
    QCPCurve* global_lines_ = nullptr;  // where each global token was held
    QCPTextElement* title_ = nullptr;

    const AttentionMatrix* matrix_ = nullptr;
    int32_t visible_rows_ = 0;
    std::function<std::string(int32_t)> token_text_;
    bool log_scale_ = false;

    // What grid_ was built from; a replot with the same inputs reuses it.
    struct BuildKey {
        bool valid = false;  // false: nothing built yet (or thrown away)
        const AttentionMatrix* matrix = nullptr;
        uint64_t generation = 0;  // of the matrix: rows below visible_rows never change within one
        LodRequest request;
        // request.visible_rows when the grid depends on it (the view reaches
        // near the last visible row or key), else -1: appending rows then
        // leaves a zoomed-in grid as it is.
        int32_t rows_dependency = -1;
        bool log = false;
        bool operator==(const BuildKey& o) const {
            return valid == o.valid && matrix == o.matrix && generation == o.generation && log == o.log &&
                   rows_dependency == o.rows_dependency && request.first_row == o.request.first_row &&
                   request.last_row == o.request.last_row && request.first_key == o.request.first_key &&
                   request.last_key == o.request.last_key && request.max_width == o.request.max_width &&
                   request.max_height == o.request.max_height;
        }
    };
    BuildKey buildKey() const;  // for the current matrix, rows, axis ranges and plot size
    BuildKey built_;
    LodGrid grid_;
    double last_redraw_ms_ = 0;
    double last_rebuild_ms_ = 0;
    int64_t rebuild_count_ = 0;
    QElapsedTimer replot_timer_;
};

}  // namespace kvscope::gui
