#pragma once
// Space and Enter double as window-wide shortcuts (Step, Run/Pause) for the
// moments when no control needs them. A focused control that uses the key
// keeps it: Enter applies a typed value in a spin box or field, Space presses a
// focused button or ticks a check box, either one opens or confirms a combo.
//
// FocusedControlKeys follows the application's focus: while the focused
// widget uses a plain key, the actions bound to that key drop it from their
// shortcuts (their other keys, e.g. Ctrl+Enter, stay), so the key reaches the
// widget untouched, by every path Qt delivers it (an open combo list takes
// Enter from the shortcut-override event, for one). Taking the key away is
// more robust than intercepting events: nothing between the keyboard and the
// widget changes.
#include <QKeySequence>
#include <QList>
#include <QObject>
#include <QPointer>

#include <vector>

class QAction;
class QWidget;

namespace kvscope::gui {

// True when `focus` (the focus widget) would use `key` pressed with `modifiers`
// itself, so that a shortcut must not take it. Only unmodified (or Shift+)
// Space, Return and Enter are ever claimed: keys with Ctrl or Alt stay shortcuts.
bool focused_control_uses_key(const QWidget* focus, int key, Qt::KeyboardModifiers modifiers);

class FocusedControlKeys : public QObject {
    Q_OBJECT
public:
    explicit FocusedControlKeys(QObject* parent = nullptr);

    // `action` always has `keys`; those of them that are a plain Space, Return
    // or Enter (Shift allowed) are dropped while the focused control uses them.
    void bind(QAction* action, const QList<QKeySequence>& keys);

    // Every key an action is bound to, whether or not it is taken away now
    // (for the shortcuts dialog); the action's own shortcuts() otherwise.
    static QList<QKeySequence> allShortcuts(const QAction* action);

private:
    void update(QWidget* focus);

    struct Binding {
        QPointer<QAction> action;
        QList<QKeySequence> keys;
    };
    std::vector<Binding> bindings_;
};

}  // namespace kvscope::gui
