// The KV cache strip (DESIGN.md §3): one row per layer showing its cache slots
// in PHYSICAL slot order, coloured by the role of the position each holds,
// with the ring-buffer write pointer, paged-block boundaries every kPageSize
// slots and the positions evicted at the shown step. The selected layer's row
// is enlarged and labels each slot with its position and token text. Layers
// with the model's own sliding window (gemma3's local layers) have their label
// in another colour, named in the legend and the row's tooltip. Only
// held slots are stored and drawn one by one: the cost of a step grows with
// what is held and the pixel width, not with the capacity (n_ctx).
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "session/step_snapshot.h"

namespace kvscope::gui {

class KvStripView : public QWidget {
    Q_OBJECT
public:
    explicit KvStripView(QWidget* parent = nullptr);

    // layers: the step's LayerCacheView per layer (StepSnapshot::layers);
    // token_text(position) gives the raw piece (bytes) of a slot's token; it
    // is called here, once per distinct position shown, and not kept. Labels
    // show bytes of a character split across tokens as "\xE4". Inconsistent views (size
    // mismatches, negative or duplicate slots, unknown roles) are refused:
    // the strip then shows lastError() instead.
    void setCacheViews(const std::vector<LayerCacheView>& layers, std::function<std::string(int32_t)> token_text);
    void setSelectedLayer(int32_t layer);  // -1: none; a layer past the data is kept for the next views
    int32_t selectedLayer() const { return selected_; }
    void clear();
    QString lastError() const { return error_; }  // "" when the shown views were accepted

    // Writes the strip to `path` as PNG at its current size or sizeHint(),
    // whichever is larger (every row and label whole), with `caption` (model,
    // policy, step) in a line on top when given; atomically
    // (render::save_image_png: an existing file is replaced only when the new
    // one is complete). Returns "" or the error (naming the path).
    QString exportPng(const QString& path, const QString& caption = {}) const;

    // Geometry for tests and tooltips (widget coordinates), empty if none:
    // the rectangle of physical slot `slot` in row `layer`,
    QRect slotRect(int32_t layer, int32_t slot) const;
    // the write-pointer mark of row `layer` (at the left edge of next_slot),
    QRect writePointerRect(int32_t layer) const;
    // the red mark of `position` evicted from `layer` at this step (marks
    // that do not fit beside the row share the last one),
    QRect evictedMarkRect(int32_t layer, int32_t position) const;
    // and the whole row of `layer` (label, slots and evicted marks).
    QRect rowRect(int32_t layer) const;
    // The tooltip shown at `pos` (widget coordinates): the row's summary plus
    // the slot drawn under the pointer ("" outside every row).
    QString toolTipTextAt(QPoint pos) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void layerSelected(int32_t layer);  // a click on a layer's row

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct HeldSlot {
        int32_t slot = 0;
        int32_t position = 0;
        SlotRole role = SlotRole::Window;
    };
    // One layer's cache as drawn.
    struct Row {
        int32_t slot_count = 0;        // slots drawn: max(capacity, highest held slot + 1, next_slot + 1)
        std::vector<HeldSlot> held;    // [held] sorted by slot; every other slot is empty
        std::vector<int32_t> evicted;  // positions evicted at this step
        int32_t capacity = 0;          // slots [capacity, slot_count) are past it (a shrunk window)
        int32_t next_slot = -1;
        int32_t native_window = 0;     // the model's own window on this layer (0 = none): label and tooltip say so
    };
    // Where everything goes for one widget size.
    struct Layout {
        QSize size;
        QRect legend;
        QRect labels;                       // the layer-label column (x extent)
        int slots_left = 0, slots_width = 0;  // the slot area's x extent, shared by all rows
        int evicted_left = 0, evicted_width = 0;
        std::vector<QRect> rows;            // [n_layer] full-width rectangle of each row
        int32_t total_slots = 1;            // slots across the shared width
        int selected_text_h = 0;            // height of each text line in the selected row
    };

    Layout computeLayout(QSize size) const;
    int slotX(const Layout& lay, int32_t slot) const;  // left edge of `slot`
    // The last slot whose left edge is at or before slot-area pixel `px` (the
    // exact inverse of slotX: the slot drawn there when slots are >= 1 px wide).
    int32_t lastSlotAtPixel(const Layout& lay, int px) const;
    static const HeldSlot* heldAt(const Row& row, int32_t slot);  // nullptr when empty
    QString slotDescription(const Row& row, int32_t slot) const;
    QRect slotRectIn(const Layout& lay, int32_t layer, int32_t slot) const;
    QRect writePointerRectIn(const Layout& lay, int32_t layer) const;
    QRect evictedMarkRectIn(const Layout& lay, int32_t layer, size_t index) const;
    size_t evictedMarksThatFit(const Layout& lay, int32_t layer) const;
    void paintContent(QPainter& painter, const Layout& lay, const QRect& exposed) const;
    void paintRowSlots(QPainter& painter, const Layout& lay, int32_t layer) const;
    const QImage& thinRowImage(const Layout& lay, int32_t layer) const;
    QString tokenLabel(int32_t position) const;
    int32_t rowAt(const Layout& lay, QPoint pos) const;

    std::vector<Row> rows_;                          // [n_layer]
    std::unordered_map<int32_t, QString> token_text_;  // position -> token text
    int32_t selected_ = 0;
    QString error_;
    // Thin-bar images (one pixel per column, priority-pooled), rebuilt when the width or data changes.
    mutable std::vector<QImage> thin_images_;        // [n_layer]
    mutable int thin_images_width_ = -1;
};

}  // namespace kvscope::gui
