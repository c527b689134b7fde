// The model view's layer x head thumbnails (DESIGN.md §3): an n_layer x n_head
// grid of small attention heatmaps of the most recent query tokens, to spot
// heads worth opening in the big heatmap; a click selects one.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <vector>

#include "cacheviews/attention_thumbnails.h"
#include "session/step_snapshot.h"

namespace kvscope::gui {

class HeadGridView : public QWidget {
    Q_OBJECT
public:
    explicit HeadGridView(QWidget* parent = nullptr);

    // The most recent query rows (oldest first, up to ~32 tokens; each
    // QueryAttention has every layer, probs [n_head][n_keys]); draws an
    // n_layer x n_head grid of small heatmaps (rows = those queries, columns =
    // key positions, max-pooled into kThumbnailColumns bins). The images are
    // built here, once. Inconsistent rows are refused: lastError() says why
    // and the grid shows the error.
    void setRecentAttention(const std::vector<QueryAttention>& rows, int32_t n_layer, int32_t n_head);
    // The same from rows pooled elsewhere (ThumbnailPooler pools off the GUI
    // thread): `row_positions` [pooled.n_rows] are the rows' query positions.
    void setPooled(PooledAttention pooled, std::vector<int32_t> row_positions);
    void setSelected(int32_t layer, int32_t head);  // (-1, -1): none
    // The model's own window per layer ([n_layer], 0 = global; empty when the
    // model has none): local layers' labels are drawn in vermillion, as in the
    // KV strip, and their thumbnails' tooltips name the window.
    void setLayerWindows(std::vector<int32_t> windows);
    // The tooltip of one thumbnail (also shown on hover).
    QString tooltipFor(int32_t layer, int32_t head) const;
    int32_t selectedLayer() const { return selected_layer_; }
    int32_t selectedHead() const { return selected_head_; }
    void clear();
    QString lastError() const { return error_; }

    QRect thumbnailRect(int32_t layer, int32_t head) const;  // widget coordinates; empty if none
    // The pooled matrix behind the thumbnails, and one thumbnail's image
    // ([n_rows x n_columns] pixels, drawn stretched into thumbnailRect).
    const PooledAttention& pooled() const { return pooled_; }
    const std::vector<int32_t>& rowPositions() const { return row_positions_; }  // [n_rows] query position per row
    QImage thumbnail(int32_t layer, int32_t head) const;

    static constexpr int32_t kThumbnailColumns = 32;  // key bins per thumbnail

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void headSelected(int32_t layer, int32_t head);  // a click on a thumbnail

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct Layout {
        int label_w = 0;   // the layer-label column
        int header_h = 0;  // the head-label row
        int thumb = 0;     // thumbnail side
    };
    Layout computeLayout() const;
    QRect thumbnailRectIn(const Layout& lay, int32_t layer, int32_t head) const;
    bool hitThumbnail(QPoint pos, int32_t& layer, int32_t& head) const;
    int32_t layerWindow(int32_t layer) const;  // 0 when global or unknown

    int32_t n_layer_ = 0, n_head_ = 0;
    PooledAttention pooled_;
    std::vector<QImage> images_;                // [n_layer * n_head], empty when there are no rows
    std::vector<int32_t> row_positions_;        // [n_rows] query position of each row
    std::vector<int32_t> layer_windows_;        // [n_layer] or empty: the model's own window per layer
    int32_t selected_layer_ = -1, selected_head_ = -1;
    QString error_;
};

}  // namespace kvscope::gui
