// Colours and the legend shared by the cache views (KV strip, layer x head
// thumbnails, token text). Roles use the Okabe-Ito palette, which stays
// distinguishable under the common colour-vision deficiencies.
#pragma once

#include <QColor>
#include <QString>

#include <vector>

#include "kv/kv_policy.h"

class QPainter;
class QRect;

namespace kvscope::gui {

QColor roleColor(SlotRole role);     // fill of a held slot / token of that role
QString roleLabel(SlotRole role);    // "sink", "global", "window", "heavy hitter"
// The roles in legend order.
const std::vector<SlotRole>& allRoles();

inline const QColor kViewBackground{255, 255, 255};
inline const QColor kEmptySlotColor{232, 232, 232};     // a slot holding nothing
inline const QColor kBeyondCapacityColor{200, 200, 200};  // a slot past the layer's current capacity
inline const QColor kWritePointerColor{0, 0, 0};        // ring-buffer write pointer
inline const QColor kPageBoundaryColor{70, 70, 70};     // paged-block boundary (every kPageSize slots)
inline const QColor kEvictedColor{200, 0, 0};           // evicted at this step
inline const QColor kSelectionColor{0, 114, 178};       // outline of the selected layer / head (Okabe-Ito blue)
inline const QColor kLabelColor{40, 40, 40};
inline const QColor kLocalLayerLabelColor{213, 94, 0};  // label of a layer with the model's own window (Okabe-Ito vermillion)

// One legend item: a swatch (filled, or an outline when `outline`) and its text.
struct LegendEntry {
    QColor color;
    QString text;
    bool outline = false;
};

// Draws the entries left to right on one line inside `area`, eliding what
// does not fit. Returns the width used.
int paintLegend(QPainter& painter, const QRect& area, const std::vector<LegendEntry>& entries);

}  // namespace kvscope::gui
