#pragma once
// The red label under a form that says why an edit was refused (shared by the
// policy and generation panels). Plain text: the engine's message quotes user input.
class QLabel;
class QWidget;

namespace kvscope::gui {

QLabel* make_refusal_label(QWidget* parent);  // hidden until a refusal is shown; objectName "refusalLabel"

}  // namespace kvscope::gui
