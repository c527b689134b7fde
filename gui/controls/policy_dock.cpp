#include "controls/policy_dock.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTimer>

#include <algorithm>

#include "controls/dynamic_window_spec.h"
#include "controls/policy_applicability.h"
#include "controls/slider_spin.h"
#include "util/error.h"

namespace kvscope::gui {
namespace {

// Selects the combo entry whose data is `value` (each combo holds every enum value).
void select_data(QComboBox* combo, int value) {
    const int index = combo->findData(value);
    if (index >= 0) combo->setCurrentIndex(index);
}

// The engine's reason, or "" when the config validates.
QString validation_error(const PolicyConfig& policy, int32_t n_ctx, int32_t n_layer, int32_t text_length) {
    try {
        policy.validate(n_ctx, n_layer, text_length);
        return {};
    } catch (const InvalidSetting& e) {
        return QString::fromStdString(e.what());
    }
}

}  // namespace

PolicyPanel::PolicyPanel(QWidget* parent) : QWidget(parent) {
    buildWidgets();
    setToolTips();
    applyLimitsToWidgets();
    // Starting values for the sizes a user is likely to try first; the policy
    // in force starts as full, which uses none of them.
    window_->setValueSilently(256);
    sinks_->setValueSilently(4);
    h2o_heavy_spin_->setValue(64);
    h2o_recent_spin_->setValue(192);
    select_data(kv_type_combo_, static_cast<int>(policy_.kv_type));
    select_data(position_combo_, static_cast<int>(policy_.positions));
    updateEnabled();
    updateInForceLabel();

    connect(kind_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        updateEnabled();
        onEdited();
    });
    connect(window_, &SliderSpin::valueChanged, this, &PolicyPanel::onEdited);
    connect(sinks_, &SliderSpin::valueChanged, this, &PolicyPanel::onEdited);
    connect(window_, &SliderSpin::dragFinished, this, &PolicyPanel::flushPendingEmit);
    connect(sinks_, &SliderSpin::dragFinished, this, &PolicyPanel::flushPendingEmit);
    for (QSpinBox* spin : {pin_every_spin_, h2o_heavy_spin_, h2o_recent_spin_, full_every_spin_})
        connect(spin, qOverload<int>(&QSpinBox::valueChanged), this, &PolicyPanel::onEdited);
    connect(dynamic_edit_, &QLineEdit::editingFinished, this, &PolicyPanel::onEdited);
    connect(kv_type_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, &PolicyPanel::onEdited);
    connect(position_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, &PolicyPanel::onEdited);
    connect(remove_pins_button_, &QPushButton::clicked, this, &PolicyPanel::removeSelectedPins);
    connect(pin_list_, &QListWidget::itemSelectionChanged, this, [this] {
        remove_pins_button_->setEnabled(controls_in_use(policy_kind()).pins && !pin_list_->selectedItems().isEmpty());
    });
    connect(reference_check_, &QCheckBox::toggled, this, &PolicyPanel::referenceRunChanged);
    connect(replay_button_, &QPushButton::clicked, this, &PolicyPanel::replayRequested);
    connect(drag_emit_timer_, &QTimer::timeout, this, &PolicyPanel::flushPendingEmit);
}

PolicyKind PolicyPanel::policy_kind() const { return static_cast<PolicyKind>(kind_combo_->currentData().toInt()); }

void PolicyPanel::setLimits(int32_t n_ctx, int32_t n_layer, int32_t text_length) {
    if (n_ctx < 1 || n_layer < 1 || text_length < 0 || text_length > n_ctx) {
        refuse(tr("invalid limits: context %1 (>= 1), layers %2 (>= 1), text length %3 (0 to the context)")
                   .arg(n_ctx)
                   .arg(n_layer)
                   .arg(text_length));
        return;
    }
    n_ctx_ = n_ctx;
    n_layer_ = n_layer;
    text_length_ = text_length;
    applyLimitsToWidgets();
    const QString in_force_error = validation_error(policy_, n_ctx_, n_layer_, text_length_);
    if (!in_force_error.isEmpty()) {
        refuse(tr("the policy in force no longer fits: %1").arg(in_force_error));
        return;
    }
    // The controls may show an edit refused earlier; it stays refused until the
    // next edit, unless the controls now agree with the policy in force.
    PolicyConfig shown;
    QString error;
    if (!policyFromControls(shown, error)) return;
    error = validation_error(shown, n_ctx_, n_layer_, text_length_);
    if (!error.isEmpty()) refuse(error);
    else if (shown == policy_) clearRefusal();
}

void PolicyPanel::applyLimitsToWidgets() {
    // Ranges only: Qt clamps values that fall outside them (a smaller model).
    // Signals are blocked so that clamping does not count as a user edit.
    const QSignalBlocker b1(pin_every_spin_), b2(h2o_heavy_spin_), b3(h2o_recent_spin_), b4(full_every_spin_);
    window_->setRange(1, n_ctx_);
    sinks_->setRange(0, std::max(0, n_ctx_ - 1));
    pin_every_spin_->setRange(0, n_ctx_);
    h2o_heavy_spin_->setRange(0, std::max(0, n_ctx_ - 1));
    h2o_recent_spin_->setRange(1, n_ctx_);
    full_every_spin_->setRange(0, n_layer_);
}

void PolicyPanel::setPolicy(const PolicyConfig& policy) {
    const QString error = validation_error(policy, n_ctx_, n_layer_, text_length_);
    if (!error.isEmpty()) {
        refuse(error);
        return;
    }
    drag_emit_timer_->stop();
    emit_pending_ = false;
    policy_ = policy;
    showPolicy(policy);
    clearRefusal();
    updateInForceLabel();
}

void PolicyPanel::showPolicy(const PolicyConfig& p) {
    const QSignalBlocker b1(kind_combo_), b2(pin_every_spin_), b3(h2o_heavy_spin_), b4(h2o_recent_spin_),
        b5(full_every_spin_), b6(dynamic_edit_), b7(kv_type_combo_), b8(position_combo_);
    select_data(kind_combo_, static_cast<int>(p.kind));
    const PolicyControlsInUse use = controls_in_use(p.kind);
    // Fields the policy does not use keep what they showed, ready for a switch back.
    if (use.window && p.dynamic.empty()) window_->setValueSilently(p.window);
    if (use.sinks) sinks_->setValueSilently(p.sinks);
    if (use.pins) {
        setPinList(p.pins);
        pin_every_spin_->setValue(p.pin_every);
    }
    if (use.h2o) {
        h2o_heavy_spin_->setValue(p.h2o_heavy);
        h2o_recent_spin_->setValue(p.h2o_recent);
    }
    full_every_spin_->setValue(p.full_every);
    dynamic_edit_->setText(format_dynamic_window_spec(p.dynamic));
    select_data(kv_type_combo_, static_cast<int>(p.kv_type));
    select_data(position_combo_, static_cast<int>(p.positions));
    updateEnabled();
}

void PolicyPanel::updateEnabled() {
    const PolicyControlsInUse use = controls_in_use(policy_kind());
    window_->setEnabled(use.window);
    dynamic_edit_->setEnabled(use.window);
    sinks_->setEnabled(use.sinks);
    pin_list_->setEnabled(use.pins);
    pin_every_spin_->setEnabled(use.pins);
    remove_pins_button_->setEnabled(use.pins && !pin_list_->selectedItems().isEmpty());
    h2o_heavy_spin_->setEnabled(use.h2o);
    h2o_recent_spin_->setEnabled(use.h2o);
    full_every_spin_->setEnabled(use.layer_pattern);
}

bool PolicyPanel::policyFromControls(PolicyConfig& out, QString& error) const {
    PolicyConfig p;
    p.kind = policy_kind();
    const PolicyControlsInUse use = controls_in_use(p.kind);
    if (use.window) {
        const DynamicWindowParse parsed = parse_dynamic_window_spec(dynamic_edit_->text());
        if (!parsed.ok()) {
            error = parsed.error;
            return false;
        }
        p.dynamic = parsed.steps;
        // With a dynamic window the engine ignores W and showPolicy leaves the
        // slider alone, so the slider need not show policy_.window: reading it
        // would make the shown policy differ from the one in force (spurious
        // emissions, refusals never cleared). Keep the W in force instead; the
        // slider counts again once the steps are cleared.
        p.window = !p.dynamic.empty() && controls_in_use(policy_.kind).window ? policy_.window : window_->value();
    }
    if (use.sinks) p.sinks = sinks_->value();
    if (use.pins) {
        p.pins = pinsInList();
        p.pin_every = pin_every_spin_->value();
    }
    if (use.h2o) {
        p.h2o_heavy = h2o_heavy_spin_->value();
        p.h2o_recent = h2o_recent_spin_->value();
    }
    if (use.layer_pattern) p.full_every = full_every_spin_->value();
    p.kv_type = static_cast<KvValueType>(kv_type_combo_->currentData().toInt());
    p.positions = static_cast<PositionMode>(position_combo_->currentData().toInt());
    out = std::move(p);
    return true;
}

void PolicyPanel::onEdited() {
    PolicyConfig candidate;
    QString error;
    if (!policyFromControls(candidate, error)) {
        refuse(error);
        return;
    }
    error = validation_error(candidate, n_ctx_, n_layer_, text_length_);
    if (!error.isEmpty()) {
        refuse(error);
        return;
    }
    accept(candidate);
}

void PolicyPanel::accept(const PolicyConfig& candidate) {
    clearRefusal();
    if (candidate == policy_) return;  // only real changes are emitted
    policy_ = candidate;
    updateInForceLabel();
    scheduleEmit();
}

void PolicyPanel::refuse(const QString& reason) {
    refusal_ = reason;
    refusal_label_->setText(tr("Refused: %1. Still in force: %2").arg(reason, QString::fromStdString(policy_.describe())));
    refusal_label_->show();
}

void PolicyPanel::clearRefusal() {
    refusal_.clear();
    refusal_label_->clear();
    refusal_label_->hide();
}

bool PolicyPanel::anySliderDragging() const { return window_->dragging() || sinks_->dragging(); }

void PolicyPanel::scheduleEmit() {
    if (anySliderDragging()) {
        // Mid-drag: at most one emission per interval; the release flushes the last value.
        emit_pending_ = true;
        if (!drag_emit_timer_->isActive()) drag_emit_timer_->start();
        return;
    }
    drag_emit_timer_->stop();
    emit_pending_ = false;
    emit policyChanged(policy_);
}

void PolicyPanel::flushPendingEmit() {
    if (!emit_pending_) return;
    emit_pending_ = false;
    drag_emit_timer_->stop();
    emit policyChanged(policy_);
}

bool PolicyPanel::referenceRun() const { return reference_check_->isChecked(); }

void PolicyPanel::setReferenceRun(bool on) {
    const QSignalBlocker block(reference_check_);
    reference_check_->setChecked(on);
}

void PolicyPanel::togglePin(int32_t position) {
    PolicyConfig candidate;
    QString error;
    if (!policyFromControls(candidate, error)) {
        refuse(error);
        return;
    }
    if (candidate.pins.count(position) != 0) candidate.pins.erase(position);
    else candidate.pins.insert(position);
    // Under another policy the engine refuses any pin ("pins apply to the global
    // policy only"); the list is only touched once the new set validates.
    error = validation_error(candidate, n_ctx_, n_layer_, text_length_);
    if (!error.isEmpty()) {
        refuse(candidate.kind == PolicyKind::Global ? error : tr("%1; choose the global policy to pin tokens").arg(error));
        return;
    }
    setPinList(candidate.pins);
    accept(candidate);
}

void PolicyPanel::removeSelectedPins() {
    const QList<QListWidgetItem*> selected = pin_list_->selectedItems();
    if (selected.isEmpty()) return;
    for (QListWidgetItem* item : selected) delete pin_list_->takeItem(pin_list_->row(item));
    onEdited();
}

void PolicyPanel::setPinList(const std::set<int32_t>& pins) {
    pin_list_->clear();
    for (int32_t p : pins) {  // std::set: ascending
        auto* item = new QListWidgetItem(tr("position %1").arg(p), pin_list_);
        item->setData(Qt::UserRole, p);
    }
    remove_pins_button_->setEnabled(false);
}

std::set<int32_t> PolicyPanel::pinsInList() const {
    std::set<int32_t> pins;
    for (int i = 0; i < pin_list_->count(); ++i) pins.insert(pin_list_->item(i)->data(Qt::UserRole).toInt());
    return pins;
}

void PolicyPanel::updateInForceLabel() {
    in_force_label_->setText(tr("In force: %1").arg(QString::fromStdString(policy_.describe())));
}

}  // namespace kvscope::gui
