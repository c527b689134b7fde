#include "cacheviews/role_colors.h"

#include <QFontMetrics>
#include <QPainter>
#include <QRect>

#include <algorithm>

#include "render/colors.h"

namespace kvscope::gui {

namespace {
QColor qcolor(render::Rgb c) { return {c.r, c.g, c.b}; }
}  // namespace

QColor roleColor(SlotRole role) {
    switch (role) {
        case SlotRole::Sink: return qcolor(render::kRoleSinkColor);
        case SlotRole::Global: return qcolor(render::kRoleGlobalColor);
        case SlotRole::Window: return qcolor(render::kRoleWindowColor);
        case SlotRole::HeavyHitter: return qcolor(render::kRoleHeavyHitterColor);
    }
    return {128, 128, 128};
}

QString roleLabel(SlotRole role) {
    switch (role) {
        case SlotRole::Sink: return QStringLiteral("sink");
        case SlotRole::Global: return QStringLiteral("global");
        case SlotRole::Window: return QStringLiteral("window");
        case SlotRole::HeavyHitter: return QStringLiteral("heavy hitter");
    }
    return QStringLiteral("?");
}

const std::vector<SlotRole>& allRoles() {
    static const std::vector<SlotRole> roles{SlotRole::Sink, SlotRole::Global, SlotRole::Window, SlotRole::HeavyHitter};
    return roles;
}

int paintLegend(QPainter& painter, const QRect& area, const std::vector<LegendEntry>& entries) {
    const QFontMetrics fm(painter.font());
    const int swatch = std::max(6, fm.height() - 6);
    const int gap = fm.horizontalAdvance(QLatin1Char(' '));
    int x = area.left();
    painter.save();
    for (const LegendEntry& e : entries) {
        const int text_w = fm.horizontalAdvance(e.text);
        if (x + swatch + gap + text_w > area.right()) break;  // no room for more
        const QRect box(x, area.top() + (area.height() - swatch) / 2, swatch, swatch);
        if (e.outline) {
            painter.setPen(QPen(e.color, 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(box.adjusted(1, 1, -1, -1));
        } else {
            painter.setPen(Qt::NoPen);
            painter.fillRect(box, e.color);
        }
        painter.setPen(kLabelColor);
        painter.drawText(QRect(x + swatch + gap / 2, area.top(), text_w + gap, area.height()),
                         Qt::AlignLeft | Qt::AlignVCenter, e.text);
        x += swatch + gap / 2 + text_w + 2 * gap;
    }
    painter.restore();
    return x - area.left();
}

}  // namespace kvscope::gui
