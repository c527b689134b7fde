#include "cacheviews/head_grid_view.h"

#include <QFontMetrics>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QToolTip>
#include <QtDebug>

#include <algorithm>

#include "cacheviews/role_colors.h"
#include "render/colors.h"

namespace kvscope::gui {

namespace {
constexpr int kGap = 3;          // dip between thumbnails; the selection outline (2 dip) sits in it
constexpr int kThumbDefault = 32;  // dip
constexpr int kThumbMin = 16;
constexpr int kThumbMax = 64;
constexpr int kPad = 4;
}  // namespace

HeadGridView::HeadGridView(QWidget* parent) : QWidget(parent) {
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("Attention of the recent tokens per layer and head. Click a thumbnail to show that head."));
}

void HeadGridView::clear() {
    n_layer_ = n_head_ = 0;
    pooled_ = PooledAttention{};
    images_.clear();
    row_positions_.clear();
    error_.clear();
    updateGeometry();
    update();
}

void HeadGridView::setRecentAttention(const std::vector<QueryAttention>& rows, int32_t n_layer, int32_t n_head) {
    PooledAttention pooled;
    const QString err = poolAttention(rows, n_layer, n_head, kThumbnailColumns, pooled);
    if (!err.isEmpty()) {
        clear();
        error_ = err;
        qWarning().noquote() << error_;
        update();
        return;
    }
    std::vector<int32_t> positions;
    positions.reserve(rows.size());
    for (const QueryAttention& q : rows) positions.push_back(q.position);
    setPooled(std::move(pooled), std::move(positions));
}

void HeadGridView::setPooled(PooledAttention pooled, std::vector<int32_t> row_positions) {
    clear();
    n_layer_ = pooled.n_layer;
    n_head_ = pooled.n_head;
    pooled_ = std::move(pooled);
    row_positions_ = std::move(row_positions);
    if (pooled_.non_finite > 0)
        qWarning().noquote() << tr("layer x head grid: %1 NaN or infinite attention weights, drawn as 0").arg(pooled_.non_finite);
    if (pooled_.n_rows > 0) {
        images_.reserve(static_cast<size_t>(n_layer_) * static_cast<size_t>(n_head_));
        for (int32_t l = 0; l < n_layer_; ++l)
            for (int32_t h = 0; h < n_head_; ++h) images_.push_back(thumbnailImage(pooled_, l, h));
    }
    updateGeometry();
    update();
}

void HeadGridView::setSelected(int32_t layer, int32_t head) {
    if ((layer < 0) != (head < 0) || layer < -1 || head < -1) {
        qWarning() << "HeadGridView::setSelected: invalid layer/head" << layer << head;
        return;
    }
    selected_layer_ = layer;
    selected_head_ = head;
    update();
}

QImage HeadGridView::thumbnail(int32_t layer, int32_t head) const {
    if (layer < 0 || layer >= n_layer_ || head < 0 || head >= n_head_ || images_.empty()) return {};
    return images_[static_cast<size_t>(layer) * static_cast<size_t>(n_head_) + static_cast<size_t>(head)];
}

HeadGridView::Layout HeadGridView::computeLayout() const {
    const QFontMetrics fm(font());
    Layout lay;
    lay.label_w = fm.horizontalAdvance(QStringLiteral("L00")) + 2 * kPad;
    lay.header_h = fm.height() + kPad;
    const int n_head = std::max(1, n_head_);
    lay.thumb = std::clamp((width() - lay.label_w - kPad) / n_head - kGap, kThumbMin, kThumbMax);
    return lay;
}

QRect HeadGridView::thumbnailRectIn(const Layout& lay, int32_t layer, int32_t head) const {
    if (layer < 0 || layer >= n_layer_ || head < 0 || head >= n_head_) return {};
    return {lay.label_w + head * (lay.thumb + kGap), lay.header_h + layer * (lay.thumb + kGap), lay.thumb, lay.thumb};
}

QRect HeadGridView::thumbnailRect(int32_t layer, int32_t head) const {
    return thumbnailRectIn(computeLayout(), layer, head);
}

QSize HeadGridView::sizeHint() const {
    const QFontMetrics fm(font());
    const int label_w = fm.horizontalAdvance(QStringLiteral("L00")) + 2 * kPad;
    const int n_head = std::max<int>(1, n_head_), n_layer = std::max<int>(1, n_layer_);
    return {label_w + n_head * (kThumbDefault + kGap) + kPad, fm.height() + kPad + n_layer * (kThumbDefault + kGap) + kPad};
}

QSize HeadGridView::minimumSizeHint() const {
    const QFontMetrics fm(font());
    const int label_w = fm.horizontalAdvance(QStringLiteral("L00")) + 2 * kPad;
    const int n_head = std::max<int>(1, n_head_), n_layer = std::max<int>(1, n_layer_);
    return {label_w + n_head * (kThumbMin + kGap) + kPad, fm.height() + kPad + n_layer * (kThumbMin + kGap) + kPad};
}

void HeadGridView::paintEvent(QPaintEvent* event) {
    QPainter painter(this);
    painter.fillRect(event->rect(), kViewBackground);
    if (!error_.isEmpty()) {
        painter.setPen(kEvictedColor);
        painter.drawText(rect().adjusted(kPad, kPad, -kPad, -kPad), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, error_);
        return;
    }
    if (n_layer_ == 0) {
        painter.setPen(kLabelColor);
        painter.drawText(rect().adjusted(kPad, kPad, -kPad, -kPad), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
                         tr("No attention captured yet."));
        return;
    }
    const Layout lay = computeLayout();
    painter.setPen(kLabelColor);
    for (int32_t h = 0; h < n_head_; ++h) {
        const QRect t = thumbnailRectIn(lay, 0, h);
        painter.drawText(QRect(t.left(), 0, t.width(), lay.header_h), Qt::AlignHCenter | Qt::AlignVCenter,
                         QStringLiteral("H%1").arg(h));
    }
    const QColor not_held(render::kNotHeldGrey.r, render::kNotHeldGrey.g, render::kNotHeldGrey.b);
    for (int32_t l = 0; l < n_layer_; ++l) {
        const QRect first = thumbnailRectIn(lay, l, 0);
        if (!event->rect().intersects(first.adjusted(-lay.label_w, -kGap, width(), kGap))) continue;
        painter.setPen(layerWindow(l) > 0 ? kLocalLayerLabelColor : kLabelColor);
        painter.drawText(QRect(0, first.top(), lay.label_w - kPad, first.height()), Qt::AlignRight | Qt::AlignVCenter,
                         QStringLiteral("L%1").arg(l));
        for (int32_t h = 0; h < n_head_; ++h) {
            const QRect t = thumbnailRectIn(lay, l, h);
            if (images_.empty())
                painter.fillRect(t, not_held);
            else  // nearest-neighbour stretch: each bin stays one flat colour
                painter.drawImage(t, images_[static_cast<size_t>(l) * static_cast<size_t>(n_head_) + static_cast<size_t>(h)]);
        }
    }
    const QRect sel = thumbnailRectIn(lay, selected_layer_, selected_head_);
    if (!sel.isEmpty()) {
        // Outline in the gap around the thumbnail, so its own pixels stay untouched.
        const QRect o = sel.adjusted(-2, -2, 2, 2);
        painter.fillRect(QRect(o.left(), o.top(), o.width(), 2), kSelectionColor);
        painter.fillRect(QRect(o.left(), o.bottom() - 1, o.width(), 2), kSelectionColor);
        painter.fillRect(QRect(o.left(), o.top(), 2, o.height()), kSelectionColor);
        painter.fillRect(QRect(o.right() - 1, o.top(), 2, o.height()), kSelectionColor);
    }
}

bool HeadGridView::hitThumbnail(QPoint pos, int32_t& layer, int32_t& head) const {
    const Layout lay = computeLayout();
    if (pos.x() < lay.label_w || pos.y() < lay.header_h) return false;
    const int step = lay.thumb + kGap;
    const int32_t h = (pos.x() - lay.label_w) / step, l = (pos.y() - lay.header_h) / step;
    if (l >= n_layer_ || h >= n_head_) return false;
    if (!thumbnailRectIn(lay, l, h).adjusted(-1, -1, 1, 1).contains(pos)) return false;  // in a gap
    layer = l;
    head = h;
    return true;
}

void HeadGridView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    int32_t l = 0, h = 0;
    if (!hitThumbnail(event->position().toPoint(), l, h)) return;
    setSelected(l, h);
    emit headSelected(l, h);
}

void HeadGridView::setLayerWindows(std::vector<int32_t> windows) {
    if (windows == layer_windows_) return;
    layer_windows_ = std::move(windows);
    update();
}

int32_t HeadGridView::layerWindow(int32_t layer) const {
    return layer >= 0 && static_cast<size_t>(layer) < layer_windows_.size() ? layer_windows_[static_cast<size_t>(layer)] : 0;
}

QString HeadGridView::tooltipFor(int32_t layer, int32_t head) const {
    QString s = tr("layer %1, head %2").arg(layer).arg(head);
    if (layerWindow(layer) > 0)
        s += tr(" (local: the model's own %1-token window)").arg(layerWindow(layer));
    else if (!layer_windows_.empty())
        s += tr(" (global)");
    if (pooled_.n_rows == 0) return s;
    const float m = pooled_.max[static_cast<size_t>(layer) * static_cast<size_t>(n_head_) + static_cast<size_t>(head)];
    s += tr("\nqueries: positions %1–%2 (%3 rows), keys 0–%4 in %5 bins")
             .arg(row_positions_.front()).arg(row_positions_.back()).arg(pooled_.n_rows)
             .arg(pooled_.n_positions - 1).arg(pooled_.n_columns);
    s += tr("\nlargest weight %1 (colour: viridis of √(p / largest))").arg(static_cast<double>(m), 0, 'f', 3);
    if (pooled_.non_finite > 0) s += tr("\n%1 NaN or infinite weights (all heads) drawn as 0").arg(pooled_.non_finite);
    return s;
}

bool HeadGridView::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        int32_t l = 0, h = 0;
        QToolTip::showText(help->globalPos(), hitThumbnail(help->pos(), l, h) ? tooltipFor(l, h) : toolTip(), this);
        return true;
    }
    return QWidget::event(event);
}

}  // namespace kvscope::gui
