#pragma once
// Help > Keyboard shortcuts: every action that has one, with what it does,
// then what the mouse does in the views.
#include <QDialog>
#include <QList>

class QAction;
class QTableWidget;

namespace kvscope::gui {

class ShortcutsDialog : public QDialog {
    Q_OBJECT
public:
    ShortcutsDialog(const QList<QAction*>& actions, QWidget* parent = nullptr);
    int rows() const { return rows_; }  // the actions with shortcuts (mouse rows follow them)

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    int rows_ = 0;
    QTableWidget* table_ = nullptr;
};

}  // namespace kvscope::gui
