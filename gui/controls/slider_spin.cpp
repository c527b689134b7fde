#include "controls/slider_spin.h"

#include <QHBoxLayout>
#include <QSignalBlocker>
#include <QSlider>

#include "controls/checked_spin_box.h"

#include <algorithm>

namespace kvscope::gui {

SliderSpin::SliderSpin(QWidget* parent) : QWidget(parent), slider_(new QSlider(Qt::Horizontal, this)), spin_(new CheckedSpinBox(this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(slider_, 1);
    layout->addWidget(spin_);
    spin_->setAccelerated(true);
    spin_->setKeyboardTracking(false);  // typing "256" is one change, not 2, 25, 256
    connect(slider_, &QSlider::valueChanged, this, [this](int v) { syncFrom(v, slider_); });
    connect(spin_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int v) { syncFrom(v, spin_); });
    connect(slider_, &QSlider::sliderReleased, this, &SliderSpin::dragFinished);
    connect(spin_, &CheckedSpinBox::valueRefused, this, &SliderSpin::valueRefused);
}

void SliderSpin::syncFrom(int v, QWidget* source) {
    if (source == slider_) {
        const QSignalBlocker block(spin_);
        spin_->setValue(v);
    } else {
        const QSignalBlocker block(slider_);
        slider_->setValue(v);
    }
    emit valueChanged(v);
}

void SliderSpin::setRange(int lo, int hi) {
    const QSignalBlocker block_slider(slider_);
    const QSignalBlocker block_spin(spin_);
    slider_->setRange(lo, hi);
    spin_->setRange(lo, hi);
    // A page is about 1/32 of the range, so PgUp/PgDn cross it in a few presses.
    slider_->setPageStep(std::max(1, (hi - lo) / 32));
}

int SliderSpin::minimum() const { return spin_->minimum(); }
int SliderSpin::maximum() const { return spin_->maximum(); }
int SliderSpin::value() const { return spin_->value(); }

void SliderSpin::setValueSilently(int v) {
    const QSignalBlocker block_slider(slider_);
    const QSignalBlocker block_spin(spin_);
    slider_->setValue(v);
    spin_->setValue(v);
}

void SliderSpin::setToolTips(const QString& tip) {
    slider_->setToolTip(tip);
    spin_->setToolTip(tip);
}

bool SliderSpin::dragging() const { return slider_->isSliderDown(); }

}  // namespace kvscope::gui
