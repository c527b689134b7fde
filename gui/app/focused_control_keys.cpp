#include "app/focused_control_keys.h"

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QAction>
#include <QApplication>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTextEdit>

namespace kvscope::gui {
namespace {

bool is_space(int key) { return key == Qt::Key_Space; }
bool is_enter(int key) { return key == Qt::Key_Return || key == Qt::Key_Enter; }

// The control itself or the one it belongs to: a spin box's or an editable
// combo's inner line edit, a combo's popup list, a scroll area's viewport.
template <typename T>
const T* self_or_parent(const QWidget* w) {
    for (int depth = 0; w != nullptr && depth < 3; ++depth, w = w->parentWidget())
        if (const auto* t = qobject_cast<const T*>(w)) return t;
    return nullptr;
}

bool text_editor_is_editable(const QWidget* focus) {
    if (const auto* plain = self_or_parent<QPlainTextEdit>(focus)) return !plain->isReadOnly();
    if (const auto* rich = self_or_parent<QTextEdit>(focus)) return !rich->isReadOnly();
    return false;
}

}  // namespace

bool focused_control_uses_key(const QWidget* focus, int key, Qt::KeyboardModifiers modifiers) {
    if (focus == nullptr || !(is_space(key) || is_enter(key))) return false;
    if ((modifiers & ~(Qt::ShiftModifier | Qt::KeypadModifier)) != 0) return false;  // Ctrl+Enter etc. stay shortcuts
    // Fields and lists: Enter applies or activates, Space types or selects.
    if (self_or_parent<QAbstractSpinBox>(focus) || self_or_parent<QComboBox>(focus) ||
        self_or_parent<QLineEdit>(focus) || text_editor_is_editable(focus))
        return true;
    if (const auto* view = self_or_parent<QAbstractItemView>(focus))
        return view->selectionMode() != QAbstractItemView::NoSelection;
    // Buttons and check boxes: Space presses them (Enter does not, outside dialogs).
    if (self_or_parent<QAbstractButton>(focus)) return is_space(key);
    return false;
}

namespace {
constexpr const char* kAllShortcuts = "kvscopeAllShortcuts";  // QList<QKeySequence> on a bound action
}  // namespace

FocusedControlKeys::FocusedControlKeys(QObject* parent) : QObject(parent) {
    connect(qApp, &QApplication::focusChanged, this, [this](QWidget*, QWidget* now) { update(now); });
}

void FocusedControlKeys::bind(QAction* action, const QList<QKeySequence>& keys) {
    action->setProperty(kAllShortcuts, QVariant::fromValue(keys));
    bindings_.push_back(Binding{action, keys});
    update(QApplication::focusWidget());
}

QList<QKeySequence> FocusedControlKeys::allShortcuts(const QAction* action) {
    const QVariant all = action->property(kAllShortcuts);
    return all.isValid() ? all.value<QList<QKeySequence>>() : action->shortcuts();
}

void FocusedControlKeys::update(QWidget* focus) {
    for (const Binding& b : bindings_) {
        if (!b.action) continue;
        QList<QKeySequence> keys;
        for (const QKeySequence& k : b.keys) {
            const QKeyCombination combo = k[0];
            if (k.count() == 1 && focused_control_uses_key(focus, combo.key(), combo.keyboardModifiers())) continue;
            keys.append(k);
        }
        if (keys != b.action->shortcuts()) b.action->setShortcuts(keys);
    }
}

}  // namespace kvscope::gui
