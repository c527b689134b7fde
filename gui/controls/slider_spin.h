#pragma once
// A slider and a spin box showing one integer, kept in sync: moving either
// moves the other, and valueChanged fires once per change (not once per
// widget). dragging() tells whether the user holds the slider, so that the
// owner can coalesce what it does with the values seen mid-drag.
#include <QWidget>

class QSlider;

namespace kvscope::gui {

class CheckedSpinBox;

class SliderSpin : public QWidget {
    Q_OBJECT
public:
    explicit SliderSpin(QWidget* parent = nullptr);

    // Both widgets get the range. A value outside it is clamped by Qt; callers
    // that must not clamp check the range first (PolicyPanel does).
    void setRange(int minimum, int maximum);
    int minimum() const;
    int maximum() const;
    int value() const;
    // Shows `value` without emitting valueChanged.
    void setValueSilently(int value);
    void setToolTips(const QString& tip);
    bool dragging() const;

    QSlider* slider() const { return slider_; }
    CheckedSpinBox* spinBox() const { return spin_; }

signals:
    void valueChanged(int value);  // a user (or test) edit of either widget
    void dragFinished();           // the slider was released
    void valueRefused(const QString& reason);  // typed text outside the range (the old value stays)

private:
    void syncFrom(int value, QWidget* source);

    QSlider* slider_;
    CheckedSpinBox* spin_;
};

}  // namespace kvscope::gui
