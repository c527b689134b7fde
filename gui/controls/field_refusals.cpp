#include "controls/field_refusals.h"

#include <QLabel>
#include <QStringList>

#include <algorithm>

namespace kvscope::gui {
namespace {

// Dynamic properties that remember what the outline replaced.
constexpr const char* kOutlined = "kvscopeRefused";
constexpr const char* kPlainToolTip = "kvscopePlainToolTip";
constexpr const char* kPlainStyle = "kvscopePlainStyleSheet";

}  // namespace

bool FieldRefusals::isOutlined(const QWidget* w) { return w != nullptr && w->property(kOutlined).toBool(); }

void FieldRefusals::outline(QWidget* w, const QString& reason) {
    if (!isOutlined(w)) {
        w->setProperty(kPlainToolTip, w->toolTip());
        w->setProperty(kPlainStyle, w->styleSheet());
        w->setProperty(kOutlined, true);
    }
    // The selector names this widget only, so a spin box's inner line edit or a
    // list's items keep their own look.
    if (w->objectName().isEmpty()) w->setObjectName(QStringLiteral("refusedField"));
    w->setStyleSheet(QStringLiteral("#%1 { border: 2px solid #c62828; border-radius: 3px; }").arg(w->objectName()));
    const QString plain = w->property(kPlainToolTip).toString();
    w->setToolTip(plain.isEmpty() ? QObject::tr("Refused: %1").arg(reason)
                                  : QObject::tr("Refused: %1\n\n%2").arg(reason, plain));
}

void FieldRefusals::removeOutline(QWidget* w) {
    if (!isOutlined(w)) return;
    w->setStyleSheet(w->property(kPlainStyle).toString());
    w->setToolTip(w->property(kPlainToolTip).toString());
    w->setProperty(kOutlined, false);
}

void FieldRefusals::refuse(int field, const QString& reason, const QList<QWidget*>& widgets) {
    clear(field);
    Refusal r{field, reason, {}};
    for (QWidget* w : widgets) {
        if (w == nullptr) continue;
        outline(w, reason);
        r.widgets.append(w);
    }
    refusals_.push_back(std::move(r));
    show();
}

void FieldRefusals::clear(int field) {
    const auto it = std::find_if(refusals_.begin(), refusals_.end(), [field](const Refusal& r) { return r.field == field; });
    if (it == refusals_.end()) return;
    const QList<QPointer<QWidget>> widgets = it->widgets;
    refusals_.erase(it);
    for (const QPointer<QWidget>& w : widgets) {
        // A widget another refusal still names keeps its outline (with that reason).
        const bool still = std::any_of(refusals_.begin(), refusals_.end(),
                                       [&w](const Refusal& r) { return r.widgets.contains(w); });
        if (w && !still) removeOutline(w);
    }
    show();
}

void FieldRefusals::clearAll() {
    while (!refusals_.empty()) clear(refusals_.front().field);
}

bool FieldRefusals::has(int field) const {
    return std::any_of(refusals_.begin(), refusals_.end(), [field](const Refusal& r) { return r.field == field; });
}

std::vector<int> FieldRefusals::fields() const {
    std::vector<int> out;
    for (const Refusal& r : refusals_) out.push_back(r.field);
    return out;
}

QString FieldRefusals::text() const {
    QStringList reasons;
    for (auto it = refusals_.rbegin(); it != refusals_.rend(); ++it) reasons << it->reason;
    return reasons.join(QLatin1Char('\n'));
}

void FieldRefusals::show() {
    if (label_ == nullptr) return;
    if (refusals_.empty()) {
        label_->clear();
        label_->hide();
        return;
    }
    QStringList lines;
    for (auto it = refusals_.rbegin(); it != refusals_.rend(); ++it) lines << QObject::tr("Refused: %1").arg(it->reason);
    label_->setText(lines.join(QLatin1Char('\n')));
    label_->show();
}

}  // namespace kvscope::gui
