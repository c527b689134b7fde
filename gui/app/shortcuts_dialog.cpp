#include "app/shortcuts_dialog.h"

#include "app/focused_control_keys.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QEvent>
#include <QHeaderView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace kvscope::gui {

namespace {

struct MouseAction {
    const char* where;
    const char* what;
    const char* does;
};

// What the mouse does, beside the keys (the views' own tooltips say it too).
const MouseAction kMouseActions[] = {
    {"Wheel over the heatmap", "Zoom", "Zoom in or out around the pointer (Reset zoom shows the whole matrix)"},
    {"Drag in the heatmap", "Pan", "Move the zoomed heatmap"},
    {"Hover a heatmap cell", "Inspect", "The query and key tokens and the attention weight"},
    {"Click a token in the text", "Pin / unpin", "Under the global policy: keep that token forever (or let it go)"},
    {"Click a layer x head thumbnail", "Select", "Show that layer and head in the heatmap"},
    {"Click a KV strip row", "Select layer", "Show that layer in the heatmap, the enlarged row and the text colours"},
    {"Click in a plot", "Go to step", "Move the timeline to the step under the pointer"},
    {"Drag the Step slider", "Timeline", "Every view as it was at that step"},
    {"Drop a .gguf or .json file", "Open", "Open a model or a saved session"},
};

}  // namespace

ShortcutsDialog::ShortcutsDialog(const QList<QAction*>& actions, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Keyboard shortcuts and mouse"));
    auto* table = new QTableWidget(0, 3, this);
    table->setObjectName(QStringLiteral("shortcutsTable"));
    table->setHorizontalHeaderLabels({tr("Keys or mouse"), tr("Action"), tr("What it does")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setWordWrap(true);
    auto add_row = [table](const QString& keys, const QString& action, const QString& does) {
        const int row = table->rowCount();
        table->insertRow(row);
        table->setItem(row, 0, new QTableWidgetItem(keys));
        table->setItem(row, 1, new QTableWidgetItem(action));
        table->setItem(row, 2, new QTableWidgetItem(does));
    };
    for (const QAction* a : actions) {
        const QList<QKeySequence> shortcuts = FocusedControlKeys::allShortcuts(a);
        if (shortcuts.isEmpty()) continue;
        QStringList keys;
        for (const QKeySequence& k : shortcuts) keys << k.toString(QKeySequence::NativeText);
        add_row(keys.join(tr(" or ")), QString(a->text()).remove('&'), a->statusTip());
    }
    rows_ = table->rowCount();
    add_row(tr("Space, Enter in a field"), tr("(the field's)"),
            tr("A focused field, list, button or check box keeps Space and Enter: Enter applies a typed value. "
               "Ctrl+Enter or F5 runs and F10 steps from anywhere."));
    for (const MouseAction& m : kMouseActions) add_row(tr(m.where), tr(m.what), tr(m.does));
    table->resizeColumnsToContents();
    // The description column takes the rest of the width and wraps; rows grow to fit it.
    table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    table_ = table;
    table->viewport()->installEventFilter(this);  // a new width wraps the descriptions anew
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table);
    layout->addWidget(buttons);
    const int keys_and_action = table->columnWidth(0) + table->columnWidth(1);
    resize(std::max(820, keys_and_action + 480), 560);
}

bool ShortcutsDialog::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Resize && table_ != nullptr && watched == table_->viewport()) {
        // After the header has stretched the last column to the new width.
        QMetaObject::invokeMethod(table_, &QTableWidget::resizeRowsToContents, Qt::QueuedConnection);
    }
    return QDialog::eventFilter(watched, event);
}

}  // namespace kvscope::gui
