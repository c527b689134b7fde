#pragma once
// Help > Keyboard shortcuts: every action that has one, with what it does.
#include <QDialog>
#include <QList>

class QAction;

namespace kvscope::gui {

class ShortcutsDialog : public QDialog {
    Q_OBJECT
public:
    ShortcutsDialog(const QList<QAction*>& actions, QWidget* parent = nullptr);
    int rows() const { return rows_; }

private:
    int rows_ = 0;
};

}  // namespace kvscope::gui
