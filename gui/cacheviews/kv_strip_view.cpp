#include "cacheviews/kv_strip_view.h"

#include <QFontMetrics>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QStringList>
#include <QToolTip>
#include <QtDebug>

#include <algorithm>
#include <exception>
#include <set>
#include <stdexcept>

#include "cacheviews/role_colors.h"
#include "cacheviews/token_display.h"
#include "render/output.h"

namespace kvscope::gui {

namespace {

constexpr int kLabelPad = 6;          // dip around the layer labels
constexpr int kRowGap = 3;            // dip between rows (the write pointer pokes into it)
constexpr int kThinRowMin = 6;        // dip, thin (unselected) rows
constexpr int kThinRowMax = 16;
constexpr int kEvictedColumn = 44;    // dip beside the rows for evicted marks
constexpr int kEvictedMarkW = 3;      // dip per evicted mark, plus kEvictedMarkGap
constexpr int kEvictedMarkGap = 2;
constexpr int kPointerW = 2;          // dip, write pointer
constexpr int kPerSlotMinPx = 2;      // below this many dip per slot, rows are drawn as pooled thin bars
constexpr int kMaxSlots = 1 << 24;    // a slot index past this is taken as corrupt input

// Priority when several slots share one pixel column of a thin bar: the rarer
// roles win so a sink or pin never disappears in a 4,096-slot row (an empty
// slot is 0, so any held slot wins over it).
int rolePriority(SlotRole role) {
    switch (role) {
        case SlotRole::Window: return 1;
        case SlotRole::HeavyHitter: return 2;
        case SlotRole::Global: return 3;
        case SlotRole::Sink: return 4;
    }
    return 1;
}

bool knownRole(SlotRole r) {
    return r == SlotRole::Window || r == SlotRole::Sink || r == SlotRole::Global || r == SlotRole::HeavyHitter;
}

}  // namespace

KvStripView::KvStripView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(false);  // tooltips come through QEvent::ToolTip; no per-move work
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("KV cache strip: one row per layer, slots in physical order. Click a row to select its layer."));
}

void KvStripView::clear() {
    rows_.clear();
    token_text_.clear();
    error_.clear();
    thin_images_.clear();
    thin_images_width_ = -1;
    updateGeometry();
    update();
}

void KvStripView::setCacheViews(const std::vector<LayerCacheView>& layers,
                                std::function<std::string(int32_t)> token_text) {
    clear();
    std::vector<Row> rows(layers.size());
    std::set<int32_t> positions;  // every position shown, for the labels
    for (size_t l = 0; l < layers.size(); ++l) {
        const LayerCacheView& v = layers[l];
        const auto fail = [&](const QString& what) {
            error_ = tr("KV strip: layer %1: %2").arg(l).arg(what);
            qWarning().noquote() << error_;
            update();
        };
        if (v.held_slots.size() != v.held_positions.size() || v.held_roles.size() != v.held_positions.size())
            return fail(tr("%1 held positions but %2 slots and %3 roles")
                            .arg(v.held_positions.size()).arg(v.held_slots.size()).arg(v.held_roles.size()));
        if (v.capacity < 0 || v.capacity > kMaxSlots) return fail(tr("capacity %1 out of range").arg(v.capacity));
        if (v.native_window < 0 || v.native_window > kMaxSlots)
            return fail(tr("native window %1 out of range").arg(v.native_window));
        if (v.next_slot < -1 || v.next_slot >= kMaxSlots) return fail(tr("next slot %1 out of range").arg(v.next_slot));
        Row& row = rows[l];
        int32_t slot_count = std::max(v.capacity, v.next_slot + 1);
        row.held.reserve(v.held_slots.size());
        for (size_t i = 0; i < v.held_slots.size(); ++i) {
            const int32_t s = v.held_slots[i];
            if (s < 0 || s >= kMaxSlots) return fail(tr("slot %1 out of range").arg(s));
            if (v.held_positions[i] < 0) return fail(tr("negative position %1").arg(v.held_positions[i]));
            if (!knownRole(v.held_roles[i])) return fail(tr("unknown role %1").arg(static_cast<int>(v.held_roles[i])));
            slot_count = std::max(slot_count, s + 1);
            row.held.push_back({s, v.held_positions[i], v.held_roles[i]});
            positions.insert(v.held_positions[i]);
        }
        // Sorted by slot (a ring buffer holds positions out of slot order once it wrapped).
        std::sort(row.held.begin(), row.held.end(), [](const HeldSlot& a, const HeldSlot& b) { return a.slot < b.slot; });
        for (size_t i = 1; i < row.held.size(); ++i)
            if (row.held[i].slot == row.held[i - 1].slot)
                return fail(tr("slot %1 holds both position %2 and %3")
                                .arg(row.held[i].slot).arg(row.held[i - 1].position).arg(row.held[i].position));
        row.slot_count = slot_count;
        row.evicted = v.evicted;
        positions.insert(v.evicted.begin(), v.evicted.end());
        row.capacity = v.capacity;
        row.next_slot = v.next_slot;
        row.native_window = v.native_window;
    }
    if (token_text) {
        try {
            for (const int32_t p : positions) token_text_.emplace(p, tokenPieceLabel(token_text(p)));
        } catch (const std::exception& e) {
            error_ = tr("KV strip: token text: %1").arg(QString::fromUtf8(e.what()));
            qWarning().noquote() << error_;
            token_text_.clear();
            update();
            return;
        }
    }
    rows_ = std::move(rows);
    updateGeometry();
    update();
}

void KvStripView::setSelectedLayer(int32_t layer) {
    if (layer < -1) {
        qWarning() << "KvStripView::setSelectedLayer: invalid layer" << layer;
        return;
    }
    if (layer == selected_) return;
    selected_ = layer;
    update();
}

QSize KvStripView::sizeHint() const {
    const QFontMetrics fm(font());
    const int n = std::max<int>(1, static_cast<int>(rows_.size()));
    const int selected_h = 2 * fm.height() + 14;
    return {640, fm.height() + 8 + (n - 1) * (10 + kRowGap) + selected_h + kRowGap};
}

QSize KvStripView::minimumSizeHint() const {
    const QFontMetrics fm(font());
    const int n = std::max<int>(1, static_cast<int>(rows_.size()));
    const int selected_h = 2 * fm.height() + 14;
    return {200, fm.height() + 8 + (n - 1) * (kThinRowMin + kRowGap) + selected_h + kRowGap};
}

KvStripView::Layout KvStripView::computeLayout(QSize size) const {
    Layout lay;
    lay.size = size;
    const QFontMetrics fm(font());
    lay.legend = QRect(kLabelPad, 2, size.width() - 2 * kLabelPad, fm.height() + 4);
    const int label_w = fm.horizontalAdvance(QStringLiteral("L000")) + 2 * kLabelPad;
    lay.labels = QRect(0, 0, label_w, size.height());
    lay.evicted_width = kEvictedColumn;
    lay.slots_left = label_w;
    lay.slots_width = std::max(1, size.width() - label_w - kEvictedColumn - kLabelPad);
    lay.evicted_left = lay.slots_left + lay.slots_width + kLabelPad;
    lay.evicted_width = std::max(0, size.width() - lay.evicted_left);
    for (const Row& r : rows_) lay.total_slots = std::max(lay.total_slots, r.slot_count);

    const int n = static_cast<int>(rows_.size());
    const bool has_selected = selected_ >= 0 && selected_ < n;
    lay.selected_text_h = fm.height();
    // The selected row: a position line on top, a token line at the bottom,
    // and a clear band between them where the slot colour shows alone.
    const int selected_h = 2 * fm.height() + 14;
    const int top = lay.legend.bottom() + 4;
    const int thin_count = has_selected ? n - 1 : n;
    int thin_h = kThinRowMax;
    if (thin_count > 0) {
        const int avail = size.height() - top - (has_selected ? selected_h + kRowGap : 0);
        thin_h = std::clamp(avail / thin_count - kRowGap, kThinRowMin, kThinRowMax);
    }
    int y = top;
    lay.rows.resize(static_cast<size_t>(n));
    for (int l = 0; l < n; ++l) {
        const int h = (l == selected_) ? selected_h : thin_h;
        lay.rows[static_cast<size_t>(l)] = QRect(0, y, size.width(), h);
        y += h + kRowGap;
    }
    return lay;
}

int KvStripView::slotX(const Layout& lay, int32_t slot) const {
    return lay.slots_left + static_cast<int>(static_cast<int64_t>(slot) * lay.slots_width / lay.total_slots);
}

int32_t KvStripView::lastSlotAtPixel(const Layout& lay, int px) const {
    // slotX(s) - slots_left = floor(s * W / T) <= px  <=>  s * W < (px + 1) * T.
    return static_cast<int32_t>(((static_cast<int64_t>(px) + 1) * lay.total_slots - 1) / lay.slots_width);
}

const KvStripView::HeldSlot* KvStripView::heldAt(const Row& row, int32_t slot) {
    const auto it = std::lower_bound(row.held.begin(), row.held.end(), slot,
                                     [](const HeldSlot& h, int32_t s) { return h.slot < s; });
    return it != row.held.end() && it->slot == slot ? &*it : nullptr;
}

QRect KvStripView::slotRectIn(const Layout& lay, int32_t layer, int32_t slot) const {
    if (layer < 0 || static_cast<size_t>(layer) >= rows_.size()) return {};
    if (slot < 0 || slot >= rows_[static_cast<size_t>(layer)].slot_count) return {};
    const QRect row = lay.rows[static_cast<size_t>(layer)];
    const int x0 = slotX(lay, slot), x1 = std::max(x0 + 1, slotX(lay, slot + 1));
    return {x0, row.top(), x1 - x0, row.height()};
}

QRect KvStripView::writePointerRectIn(const Layout& lay, int32_t layer) const {
    if (layer < 0 || static_cast<size_t>(layer) >= rows_.size()) return {};
    const Row& r = rows_[static_cast<size_t>(layer)];
    if (r.next_slot < 0) return {};
    const QRect row = lay.rows[static_cast<size_t>(layer)];
    // Pokes into the gaps above and below the row so it shows even over a thin bar.
    // 1 dip on narrow slots so the slot's own colour still shows beside it.
    const int slot_w = slotX(lay, r.next_slot + 1) - slotX(lay, r.next_slot);
    return {slotX(lay, r.next_slot), row.top() - 1, slot_w >= 5 ? kPointerW : 1, row.height() + 2};
}

size_t KvStripView::evictedMarksThatFit(const Layout& lay, int32_t /*layer*/) const {
    return static_cast<size_t>(std::max(1, (lay.evicted_width - kLabelPad) / (kEvictedMarkW + kEvictedMarkGap)));
}

QRect KvStripView::evictedMarkRectIn(const Layout& lay, int32_t layer, size_t index) const {
    const QRect row = lay.rows[static_cast<size_t>(layer)];
    index = std::min(index, evictedMarksThatFit(lay, layer) - 1);
    const int x = lay.evicted_left + static_cast<int>(index) * (kEvictedMarkW + kEvictedMarkGap);
    return {x, row.top(), kEvictedMarkW, row.height()};
}

QRect KvStripView::slotRect(int32_t layer, int32_t slot) const { return slotRectIn(computeLayout(size()), layer, slot); }

QRect KvStripView::writePointerRect(int32_t layer) const { return writePointerRectIn(computeLayout(size()), layer); }

QRect KvStripView::evictedMarkRect(int32_t layer, int32_t position) const {
    if (layer < 0 || static_cast<size_t>(layer) >= rows_.size()) return {};
    const auto& ev = rows_[static_cast<size_t>(layer)].evicted;
    const auto it = std::find(ev.begin(), ev.end(), position);
    if (it == ev.end()) return {};
    return evictedMarkRectIn(computeLayout(size()), layer, static_cast<size_t>(it - ev.begin()));
}

QRect KvStripView::rowRect(int32_t layer) const {
    if (layer < 0 || static_cast<size_t>(layer) >= rows_.size()) return {};
    return computeLayout(size()).rows[static_cast<size_t>(layer)];
}

QString KvStripView::tokenLabel(int32_t position) const {
    const auto it = token_text_.find(position);
    return it == token_text_.end() ? QString() : it->second;
}

const QImage& KvStripView::thinRowImage(const Layout& lay, int32_t layer) const {
    if (thin_images_width_ != lay.slots_width || thin_images_.size() != rows_.size()) {
        thin_images_.assign(rows_.size(), QImage());
        thin_images_width_ = lay.slots_width;
    }
    QImage& img = thin_images_[static_cast<size_t>(layer)];
    if (!img.isNull()) return img;
    const Row& r = rows_[static_cast<size_t>(layer)];
    const int w = lay.slots_width;
    // Pixel columns covered by slots [first, end): slot s covers [x(s), max(x(s) + 1, x(s + 1))).
    const auto span = [&](int32_t first, int32_t end) -> std::pair<int, int> {
        if (end <= first) return {0, 0};
        const int x0 = slotX(lay, first) - lay.slots_left;
        const int x1 = std::max(slotX(lay, end - 1) - lay.slots_left + 1, slotX(lay, end) - lay.slots_left);
        return {x0, std::min(x1, w)};
    };
    img = QImage(w, 1, QImage::Format_RGB32);
    img.fill(kViewBackground);
    auto* line = reinterpret_cast<QRgb*>(img.scanLine(0));  // [w]
    // Empty slots in two runs (up to the capacity, and past it), then the held slots over them.
    const auto [b0, b1] = span(r.capacity, r.slot_count);
    std::fill(line + b0, line + b1, kBeyondCapacityColor.rgb());
    const auto [e0, e1] = span(0, std::min(r.capacity, r.slot_count));
    std::fill(line + e0, line + e1, kEmptySlotColor.rgb());
    std::vector<int> best(static_cast<size_t>(w), 0);  // [w] best role priority drawn in each column (0: empty)
    for (const HeldSlot& h : r.held) {
        const auto [x0, x1] = span(h.slot, h.slot + 1);
        const int prio = rolePriority(h.role);
        const QRgb c = roleColor(h.role).rgb();
        for (int x = x0; x < x1; ++x) {
            if (prio > best[static_cast<size_t>(x)]) {
                best[static_cast<size_t>(x)] = prio;
                line[x] = c;
            }
        }
    }
    return img;
}

void KvStripView::paintRowSlots(QPainter& painter, const Layout& lay, int32_t layer) const {
    const Row& r = rows_[static_cast<size_t>(layer)];
    const QRect row = lay.rows[static_cast<size_t>(layer)];
    const bool per_slot = lay.slots_width / lay.total_slots >= kPerSlotMinPx;
    if (!per_slot) {
        // Thin bars: one pooled pixel per column, stretched to the row height.
        const QImage& img = thinRowImage(lay, layer);
        painter.drawImage(QRect(lay.slots_left, row.top(), lay.slots_width, row.height()), img);
    } else {
        // At least kPerSlotMinPx per slot, so slot_count <= slots_width / 2: one rectangle per slot.
        const bool gaps = lay.slots_width / lay.total_slots >= 4;
        auto held = r.held.begin();
        for (int32_t s = 0; s < r.slot_count; ++s) {
            QRect cell = slotRectIn(lay, layer, s);
            if (gaps) cell.setRight(cell.right() - 1);
            QColor c = s < r.capacity ? kEmptySlotColor : kBeyondCapacityColor;
            if (held != r.held.end() && held->slot == s) c = roleColor((held++)->role);
            painter.fillRect(cell, c);
        }
    }
    // Paged-block boundaries: a dark line in the gap before every kPageSize-th slot.
    const int page_px = static_cast<int>(static_cast<int64_t>(kPageSize) * lay.slots_width / lay.total_slots);
    if (page_px >= 6) {
        for (int32_t s = kPageSize; s < r.slot_count; s += kPageSize) {
            const int x = slotX(lay, s) - 1;
            painter.fillRect(QRect(x, row.top(), 1, row.height()), kPageBoundaryColor);
        }
    }
    // The selected row labels each held slot: position on top, token text at the bottom.
    if (layer == selected_) {
        const QFontMetrics fm(painter.font());
        const int min_w = fm.horizontalAdvance(QStringLiteral("00"));
        if (lay.slots_width / lay.total_slots >= min_w) {
            painter.setPen(kLabelColor);
            for (const HeldSlot& h : r.held) {
                const QRect cell = slotRectIn(lay, layer, h.slot).adjusted(1, 2, -2, -2);
                const QRect top_line(cell.left(), cell.top(), cell.width(), lay.selected_text_h);
                const QRect bottom_line(cell.left(), cell.bottom() - lay.selected_text_h + 1, cell.width(), lay.selected_text_h);
                painter.drawText(top_line, Qt::AlignHCenter | Qt::AlignTop,
                                 fm.elidedText(QString::number(h.position), Qt::ElideRight, cell.width()));
                painter.drawText(bottom_line, Qt::AlignHCenter | Qt::AlignBottom,
                                 fm.elidedText(visibleTokenLabel(tokenLabel(h.position)), Qt::ElideRight, cell.width()));
            }
        }
    }
}

void KvStripView::paintContent(QPainter& painter, const Layout& lay, const QRect& exposed) const {
    painter.fillRect(QRect(QPoint(0, 0), lay.size), kViewBackground);
    if (!error_.isEmpty()) {
        painter.setPen(kEvictedColor);
        painter.drawText(lay.legend.adjusted(0, 0, 0, 40), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, error_);
        return;
    }
    std::vector<LegendEntry> legend;
    for (const SlotRole r : allRoles()) legend.push_back({roleColor(r), roleLabel(r)});
    legend.push_back({kEmptySlotColor, tr("empty")});
    if (std::any_of(rows_.begin(), rows_.end(), [](const Row& r) { return r.slot_count > r.capacity; }))
        legend.push_back({kBeyondCapacityColor, tr("past capacity")});
    legend.push_back({kWritePointerColor, tr("write pointer"), true});
    legend.push_back({kPageBoundaryColor, tr("page (%1 slots)").arg(kPageSize), true});
    legend.push_back({kEvictedColor, tr("evicted this step (right)")});
    // Right after the roles, where a narrow strip still shows it (the line elides its end).
    const auto local = std::find_if(rows_.begin(), rows_.end(), [](const Row& r) { return r.native_window > 0; });
    if (local != rows_.end())
        legend.insert(legend.begin() + static_cast<long>(allRoles().size()),
                      {kLocalLayerLabelColor, tr("Ln: local layer, own %1-token window").arg(local->native_window)});
    paintLegend(painter, lay.legend, legend);
    if (rows_.empty()) {
        painter.setPen(kLabelColor);
        painter.drawText(lay.legend.translated(0, lay.legend.height() + 4), Qt::AlignLeft | Qt::AlignVCenter,
                         tr("No cache to show yet."));
        return;
    }
    const QFont base = painter.font();
    QFont bold = base;
    bold.setBold(true);
    // Rows thinner than the font: every 5th is labelled, in a font that fits
    // the five rows' height, drawn whole across its neighbours (which never
    // paint the label column).
    QFont small = base;
    const int base_h = QFontMetrics(base).height();
    const int label_reach = base_h;  // how far a label may stand out of its row
    for (int32_t l = 0; l < static_cast<int32_t>(rows_.size()); ++l) {
        const Row& r = rows_[static_cast<size_t>(l)];
        const QRect row = lay.rows[static_cast<size_t>(l)];
        if (!exposed.intersects(row.adjusted(0, -label_reach, 0, label_reach))) continue;
        // Layer label at the row start (bold, with a selection bar, for the selected layer).
        const bool fits = row.height() >= base_h - 4;
        if (!fits) small.setPixelSize(std::clamp(row.height() + kRowGap + 4, 8, std::max(8, base_h)));
        painter.setFont(l == selected_ ? bold : fits ? base : small);
        painter.setPen(r.native_window > 0 ? kLocalLayerLabelColor : kLabelColor);
        const QRect label(kLabelPad, row.top(), lay.labels.width() - 2 * kLabelPad, row.height());
        if (fits || l % 5 == 0 || l == selected_)
            painter.drawText(label, Qt::AlignRight | Qt::AlignVCenter | Qt::TextDontClip, QStringLiteral("L%1").arg(l));
        if (l == selected_) painter.fillRect(QRect(0, row.top(), 3, row.height()), kSelectionColor);
        painter.setFont(base);
        paintRowSlots(painter, lay, l);
        // Write pointer: a black bar at the left edge of next_slot, plus a notch above it.
        const QRect wp = writePointerRectIn(lay, l);
        if (!wp.isEmpty()) painter.fillRect(wp, kWritePointerColor);
        // Evicted at this step: one red mark per position (extra ones share the last mark).
        const size_t marks = std::min(r.evicted.size(), evictedMarksThatFit(lay, l));
        for (size_t i = 0; i < marks; ++i) painter.fillRect(evictedMarkRectIn(lay, l, i), kEvictedColor);
        if (l == selected_ && !r.evicted.empty()) {
            // The selected row also names the evicted positions after their marks.
            QStringList names;
            for (const int32_t p : r.evicted) names << QString::number(p);
            const int x = evictedMarkRectIn(lay, l, marks - 1).right() + 3;
            const QRect text_box(x, row.top(), std::max(0, lay.size.width() - x - 2), row.height());
            painter.setPen(kEvictedColor);
            painter.drawText(text_box, Qt::AlignLeft | Qt::AlignVCenter,
                             QFontMetrics(painter.font()).elidedText(names.join(QLatin1Char(',')), Qt::ElideRight, text_box.width()));
        }
    }
}

void KvStripView::paintEvent(QPaintEvent* event) {
    QPainter painter(this);
    paintContent(painter, computeLayout(size()), event->rect());
}

int32_t KvStripView::rowAt(const Layout& lay, QPoint pos) const {
    for (size_t l = 0; l < lay.rows.size(); ++l) {
        const QRect r = lay.rows[l].adjusted(0, -kRowGap / 2, 0, kRowGap - kRowGap / 2);
        if (r.contains(pos)) return static_cast<int32_t>(l);
    }
    return -1;
}

void KvStripView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    const int32_t l = rowAt(computeLayout(size()), event->position().toPoint());
    if (l < 0) return;
    setSelectedLayer(l);
    emit layerSelected(l);
}

QString KvStripView::slotDescription(const Row& r, int32_t slot) const {
    QString s = tr("slot %1").arg(slot);
    if (const HeldSlot* h = heldAt(r, slot))
        s += tr(": position %1 “%2”, %3").arg(h->position).arg(visibleTokenLabel(tokenLabel(h->position))).arg(roleLabel(h->role));
    else
        s += slot < r.capacity ? tr(": empty") : tr(": empty, past the capacity");
    if (slot == r.next_slot) s += tr("\n(the next token is written here)");
    return s;
}

QString KvStripView::toolTipTextAt(QPoint pos) const {
    const Layout lay = computeLayout(size());
    const int32_t l = rowAt(lay, pos);
    if (l < 0) return {};
    const Row& r = rows_[static_cast<size_t>(l)];
    const QString kind = r.native_window > 0 ? tr(" (local: the model's own %1-token window)").arg(r.native_window) : QString();
    const QString header = tr("layer %1%2 — %3 held / capacity %4, ").arg(l).arg(kind).arg(r.held.size()).arg(r.capacity) +
                           (r.next_slot < 0 ? tr("no write pointer") : tr("next write: slot %1").arg(r.next_slot));
    if (pos.x() >= lay.evicted_left) {
        if (r.evicted.empty()) return header + tr("\nnothing evicted at this step");
        QString s = header + tr("\nevicted at this step:");
        for (const int32_t p : r.evicted) s += tr("\n  position %1 “%2”").arg(p).arg(visibleTokenLabel(tokenLabel(p)));
        return s;
    }
    const int px = pos.x() - lay.slots_left;
    if (px < 0 || px >= lay.slots_width || r.slot_count == 0) return header;
    // The slots drawn in pixel column px: `last` is the last one starting at or
    // before it; the one before `last`'s left edge still covers px when it is wider.
    int32_t last = lastSlotAtPixel(lay, px);
    int32_t first = 0;
    if (px > 0) {
        const int32_t a = lastSlotAtPixel(lay, px - 1);
        first = slotX(lay, a + 1) - lay.slots_left > px ? a : a + 1;
    }
    if (first >= r.slot_count) return header;
    last = std::min(last, r.slot_count - 1);
    if (first == last) return header + QLatin1Char('\n') + slotDescription(r, first);
    // Several slots share the column (thin bar): describe the one whose colour is drawn.
    const auto lo = std::lower_bound(r.held.begin(), r.held.end(), first, [](const HeldSlot& h, int32_t s) { return h.slot < s; });
    const HeldSlot* shown = nullptr;
    int held_here = 0;
    for (auto it = lo; it != r.held.end() && it->slot <= last; ++it, ++held_here)
        if (shown == nullptr || rolePriority(it->role) > rolePriority(shown->role)) shown = &*it;
    const QString s = header + tr("\nslots %1–%2 share this pixel").arg(first).arg(last);
    if (shown == nullptr) return s + tr(": all empty");
    return s + tr(", %1 held; drawn: ").arg(held_here) + slotDescription(r, shown->slot);
}

bool KvStripView::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QString text = toolTipTextAt(help->pos());
        if (text.isEmpty())
            QToolTip::showText(help->globalPos(), toolTip(), this);
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

QString KvStripView::exportPng(const QString& path, const QString& caption) const {
    // At least the size hint, so every layer's row (and label) is drawn whole
    // however small the strip is on screen; the caption goes in a band on top.
    const QSize hint = sizeHint();
    const QSize content(std::max(width(), hint.width()), std::max(height(), hint.height()));
    const QFontMetrics fm(font());
    const int band = caption.isEmpty() ? 0 : fm.height() + 8;
    const QSize sz(content.width(), content.height() + band);
    const qreal dpr = devicePixelRatioF();
    QImage img(sz * dpr, QImage::Format_RGB32);
    img.setDevicePixelRatio(dpr);
    img.fill(kViewBackground);
    {
        QPainter painter(&img);
        painter.setFont(font());
        if (band > 0) {
            painter.setPen(kLabelColor);
            painter.drawText(QRect(kLabelPad, 0, sz.width() - 2 * kLabelPad, band), Qt::AlignLeft | Qt::AlignVCenter,
                             fm.elidedText(caption, Qt::ElideRight, sz.width() - 2 * kLabelPad));
            painter.translate(0, band);
        }
        paintContent(painter, computeLayout(content), QRect(QPoint(0, 0), content));
    }
    try {
        render::save_image_png(img, path.toStdString());
    } catch (const std::runtime_error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

}  // namespace kvscope::gui
