#include "controls/checked_spin_box.h"

#include <QKeyEvent>
#include <QLineEdit>

namespace kvscope::gui {

CheckedSpinBox::CheckedSpinBox(QWidget* parent) : QSpinBox(parent) {}

QString CheckedSpinBox::refusalFor(const QString& typed) const {
    const QString text = typed.trimmed();
    if (!specialValueText().isEmpty() && text == specialValueText()) return {};
    const QLocale loc = locale();
    const QString kept = loc.toString(value());
    const QString range = tr("%1 to %2").arg(loc.toString(minimum()), loc.toString(maximum()));
    if (text.isEmpty()) return tr("no value given (allowed: %1); kept %2").arg(range, kept);
    bool ok = false;
    const qlonglong v = loc.toLongLong(text, &ok);
    if (!ok) return tr("'%1' is not a whole number (allowed: %2); kept %3").arg(text, range, kept);
    if (v < minimum() || v > maximum()) return tr("%1 is outside %2; kept %3").arg(loc.toString(v), range, kept);
    return {};
}

void CheckedSpinBox::checkTypedText() {
    // Only text the person typed and has not been taken yet: the shown value
    // itself (or the special text) always passes.
    const QString reason = refusalFor(cleanText());
    if (!reason.isEmpty()) emit valueRefused(reason);
}

void CheckedSpinBox::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) checkTypedText();
    QSpinBox::keyPressEvent(event);
}

void CheckedSpinBox::focusOutEvent(QFocusEvent* event) {
    checkTypedText();
    QSpinBox::focusOutEvent(event);
}

}  // namespace kvscope::gui
