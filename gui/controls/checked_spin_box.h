#pragma once
// A QSpinBox that says why it did not take what was typed. A plain QSpinBox
// silently puts its old value back when Enter or a focus change finds the text
// out of range ("0" where the minimum is 1) or not a number; this one emits
// valueRefused with a sentence naming the text, the allowed range and the value
// kept, and the panels show it where the person is looking.
#include <QSpinBox>

namespace kvscope::gui {

class CheckedSpinBox : public QSpinBox {
    Q_OBJECT
public:
    explicit CheckedSpinBox(QWidget* parent = nullptr);

    // Why `typed` (the text without prefix or suffix) is not a value of this
    // box, or "" when it is one: e.g. "0 is outside 1 to 2,048; kept 192".
    QString refusalFor(const QString& typed) const;

signals:
    void valueRefused(const QString& reason);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void focusOutEvent(QFocusEvent* event) override;

private:
    void checkTypedText();  // before QSpinBox reverts the text
};

}  // namespace kvscope::gui
