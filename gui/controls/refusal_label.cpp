#include "controls/refusal_label.h"

#include <QLabel>

namespace kvscope::gui {

QLabel* make_refusal_label(QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setObjectName(QStringLiteral("refusalLabel"));
    label->setTextFormat(Qt::PlainText);  // the engine's message quotes user input: never rich text
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold;"));
    label->hide();
    return label;
}

}  // namespace kvscope::gui
