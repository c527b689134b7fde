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

#include "controls/checked_spin_box.h"
#include "controls/dynamic_window_spec.h"
#include "controls/field_refusals.h"
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
    refusals_ = std::make_unique<FieldRefusals>(refusal_label_);
    setToolTips();
    applyLimitsToWidgets();
    // Starting values for the sizes a user is likely to try first; the policy
    // in force starts as full, which uses none of them.
    window_->setValueSilently(256);
    sinks_->setValueSilently(4);
    h2o_heavy_spin_->setValue(64);
    h2o_recent_spin_->setValue(192);
    budget_spin_->setValue(256);
    select_data(kv_type_combo_, static_cast<int>(policy_.kv_type));
    select_data(position_combo_, static_cast<int>(policy_.positions));
    updateEnabled();
    updateInForceLabel();

    connect(kind_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        updateEnabled();
        onEdited(Field::Kind);
    });
    connect(window_, &SliderSpin::valueChanged, this, [this] { onEdited(Field::Window); });
    connect(sinks_, &SliderSpin::valueChanged, this, [this] { onEdited(Field::Sinks); });
    connect(window_, &SliderSpin::dragFinished, this, &PolicyPanel::flushPendingEmit);
    connect(sinks_, &SliderSpin::dragFinished, this, &PolicyPanel::flushPendingEmit);
    const std::pair<CheckedSpinBox*, Field> spins[] = {{pin_every_spin_, Field::PinEvery},
                                                       {h2o_heavy_spin_, Field::H2oHeavy},
                                                       {h2o_recent_spin_, Field::H2oRecent},
                                                       {budget_spin_, Field::Budget},
                                                       {full_every_spin_, Field::FullEvery}};
    for (const auto& [spin, field] : spins) {
        connect(spin, qOverload<int>(&QSpinBox::valueChanged), this, [this, f = field] { onEdited(f); });
        connect(spin, &CheckedSpinBox::valueRefused, this,
                [this, f = field](const QString& why) { refuse(f, tr("%1: %2").arg(fieldName(f), why)); });
    }
    for (const auto& [control, field] : {std::pair{window_, Field::Window}, std::pair{sinks_, Field::Sinks}})
        connect(control, &SliderSpin::valueRefused, this,
                [this, f = field](const QString& why) { refuse(f, tr("%1: %2").arg(fieldName(f), why)); });
    connect(dynamic_edit_, &QLineEdit::editingFinished, this, [this] { onEdited(Field::Dynamic); });
    connect(pin_separators_check_, &QCheckBox::toggled, this, [this] { onEdited(Field::PinSeparators); });
    connect(kv_type_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { onEdited(Field::KvType); });
    connect(position_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { onEdited(Field::Positions); });
    connect(remove_pins_button_, &QPushButton::clicked, this, &PolicyPanel::removeSelectedPins);
    connect(pin_list_, &QListWidget::itemSelectionChanged, this, [this] {
        remove_pins_button_->setEnabled(controls_in_use(policy_kind()).pins && !pin_list_->selectedItems().isEmpty());
    });
    connect(reference_check_, &QCheckBox::toggled, this, &PolicyPanel::referenceRunChanged);
    connect(replay_button_, &QPushButton::clicked, this, &PolicyPanel::replayRequested);
    connect(drag_emit_timer_, &QTimer::timeout, this, &PolicyPanel::flushPendingEmit);
}

PolicyPanel::~PolicyPanel() = default;

PolicyKind PolicyPanel::policy_kind() const { return static_cast<PolicyKind>(kind_combo_->currentData().toInt()); }

void PolicyPanel::setLimits(int32_t n_ctx, int32_t n_layer, int32_t text_length) {
    if (n_ctx < 1 || n_layer < 1 || text_length < 0 || text_length > n_ctx) {
        refuse(Field::InForce, tr("invalid limits: context %1 (>= 1), layers %2 (>= 1), text length %3 (0 to the context)")
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
        if (refusals_->text().contains(in_force_error)) return;  // said already (this runs once per step)
        refuse(Field::InForce, tr("the policy in force no longer fits: %1").arg(in_force_error));
        return;
    }
    refusals_->clear(static_cast<int>(Field::InForce));
    // Fields refused earlier stay refused until their next edit, unless the
    // controls now agree with the policy in force.
    PolicyConfig shown;
    QString error;
    if (refusals_->fields().empty() || !policyFromControls(shown, error)) return;
    if (shown == policy_) clearRefusals();
}

void PolicyPanel::applyLimitsToWidgets() {
    // Ranges only: Qt clamps values that fall outside them (a smaller model).
    // Signals are blocked so that clamping does not count as a user edit.
    const QSignalBlocker b1(pin_every_spin_), b2(h2o_heavy_spin_), b3(h2o_recent_spin_), b4(full_every_spin_),
        b5(budget_spin_);
    window_->setRange(1, n_ctx_);
    sinks_->setRange(0, std::max(0, n_ctx_ - 1));
    pin_every_spin_->setRange(0, n_ctx_);
    h2o_heavy_spin_->setRange(0, std::max(0, n_ctx_ - 1));
    h2o_recent_spin_->setRange(1, n_ctx_);
    budget_spin_->setRange(1, n_ctx_);
    full_every_spin_->setRange(0, n_layer_);
}

void PolicyPanel::setPolicy(const PolicyConfig& policy) {
    const QString error = validation_error(policy, n_ctx_, n_layer_, text_length_);
    if (!error.isEmpty()) {
        refuse(Field::InForce, error);
        return;
    }
    drag_emit_timer_->stop();
    emit_pending_ = false;
    policy_ = policy;
    keep_percent_budget_ = policy.budget_percent > 0;
    showPolicy(policy);
    clearRefusals();
    updateInForceLabel();
}

void PolicyPanel::showPolicy(const PolicyConfig& p) {
    const QSignalBlocker b1(kind_combo_), b2(pin_every_spin_), b3(h2o_heavy_spin_), b4(h2o_recent_spin_),
        b5(full_every_spin_), b6(dynamic_edit_), b7(kv_type_combo_), b8(position_combo_), b9(budget_spin_),
        b10(pin_separators_check_);
    select_data(kind_combo_, static_cast<int>(p.kind));
    const PolicyControlsInUse use = controls_in_use(p.kind);
    // Fields the policy does not use keep what they showed, ready for a switch back.
    if (use.window && p.dynamic.empty()) window_->setValueSilently(p.window);
    if (use.sinks) sinks_->setValueSilently(p.sinks);
    if (use.pins) {
        setPinList(p.pins);
        pin_every_spin_->setValue(p.pin_every);
        pin_separators_check_->setChecked(p.pin_separators);
    }
    if (use.h2o) {
        h2o_heavy_spin_->setValue(p.h2o_heavy);
        h2o_recent_spin_->setValue(p.h2o_recent);
    }
    if (use.budget) budget_spin_->setValue(p.budget);
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
    pin_separators_check_->setEnabled(use.pins);
    remove_pins_button_->setEnabled(use.pins && !pin_list_->selectedItems().isEmpty());
    h2o_heavy_spin_->setEnabled(use.h2o);
    h2o_recent_spin_->setEnabled(use.h2o);
    budget_spin_->setEnabled(use.budget);
    full_every_spin_->setEnabled(use.layer_pattern);
}

bool PolicyPanel::policyFromControls(PolicyConfig& out, QString& error, const std::set<Field>& held_back) const {
    const auto held = [&held_back](Field f) { return held_back.count(f) != 0; };
    // A held-back field takes its value in force where the policy in force uses
    // it; elsewhere there is no value in force, and the control's counts.
    const PolicyControlsInUse in_force = controls_in_use(policy_.kind);
    PolicyConfig p;
    p.kind = held(Field::Kind) ? policy_.kind : policy_kind();
    const PolicyControlsInUse use = controls_in_use(p.kind);
    if (use.window) {
        if (held(Field::Dynamic)) {
            p.dynamic = policy_.dynamic;
        } else {
            const DynamicWindowParse parsed = parse_dynamic_window_spec(dynamic_edit_->text());
            if (!parsed.ok()) {
                error = parsed.error;
                return false;
            }
            p.dynamic = parsed.steps;
        }
        // With a dynamic window the engine ignores W and showPolicy leaves the
        // slider alone, so the slider need not show policy_.window: reading it
        // would make the shown policy differ from the one in force (spurious
        // emissions, refusals never cleared). Keep the W in force instead; the
        // slider counts again once the steps are cleared.
        const bool window_in_force = (!p.dynamic.empty() || held(Field::Window)) && in_force.window;
        p.window = window_in_force ? policy_.window : window_->value();
    }
    if (use.sinks) p.sinks = held(Field::Sinks) && in_force.sinks ? policy_.sinks : sinks_->value();
    if (use.pins) {
        p.pins = held(Field::Pins) && in_force.pins ? policy_.pins : pinsInList();
        p.pin_every = held(Field::PinEvery) && in_force.pins ? policy_.pin_every : pin_every_spin_->value();
        p.pin_separators = held(Field::PinSeparators) && in_force.pins ? policy_.pin_separators
                                                                       : pin_separators_check_->isChecked();
    }
    if (use.h2o) {
        p.h2o_heavy = held(Field::H2oHeavy) && in_force.h2o ? policy_.h2o_heavy : h2o_heavy_spin_->value();
        p.h2o_recent = held(Field::H2oRecent) && in_force.h2o ? policy_.h2o_recent : h2o_recent_spin_->value();
    }
    if (use.budget) p.budget = held(Field::Budget) && in_force.budget ? policy_.budget : budget_spin_->value();
    if (keep_percent_budget_ && p.kind == policy_.kind) {
        p.budget_percent = policy_.budget_percent;
        p.budget = policy_.budget;
        p.h2o_heavy = policy_.h2o_heavy;
        p.h2o_recent = policy_.h2o_recent;
    }
    if (use.layer_pattern)
        p.full_every = held(Field::FullEvery) && in_force.layer_pattern ? policy_.full_every : full_every_spin_->value();
    p.kv_type = held(Field::KvType) ? policy_.kv_type : static_cast<KvValueType>(kv_type_combo_->currentData().toInt());
    p.positions = held(Field::Positions) ? policy_.positions
                                         : static_cast<PositionMode>(position_combo_->currentData().toInt());
    out = std::move(p);
    return true;
}

std::set<PolicyPanel::Field> PolicyPanel::refusedFields() const {
    std::set<Field> fields;
    for (int f : refusals_->fields()) fields.insert(static_cast<Field>(f));
    return fields;
}

void PolicyPanel::onEdited(Field field) {
    if (field == Field::Kind || field == Field::Budget || field == Field::H2oHeavy || field == Field::H2oRecent)
        keep_percent_budget_ = false;  // a size chosen here replaces the percent
    refusals_->clear(static_cast<int>(field));
    // First everything the controls show: when that fits, every refusal goes.
    PolicyConfig candidate;
    QString error;
    if (policyFromControls(candidate, error)) {
        error = validation_error(candidate, n_ctx_, n_layer_, text_length_);
        if (error.isEmpty()) {
            clearRefusals();
            accept(candidate);
            return;
        }
    } else if (field != Field::Dynamic && !isRefused(Field::Dynamic)) {
        // The dynamic-window text does not parse, and this edit is not to it:
        // that field is refused on its own, and this edit is judged without it.
        refuse(Field::Dynamic, tr("Dynamic window: %1").arg(error));
    }
    // Then this edit alone, the other refused fields at their values in force.
    std::set<Field> held = refusedFields();
    held.erase(Field::InForce);
    held.erase(field);
    QString own_error;
    if (!policyFromControls(candidate, own_error, held)) {
        refuse(field, tr("Dynamic window: %1").arg(own_error));
        return;
    }
    own_error = validation_error(candidate, n_ctx_, n_layer_, text_length_);
    if (!own_error.isEmpty()) {
        refuse(field, own_error);
        return;
    }
    refusals_->clear(static_cast<int>(Field::InForce));
    accept(candidate);
}

void PolicyPanel::accept(const PolicyConfig& candidate) {
    if (candidate == policy_) return;  // only real changes are emitted
    policy_ = candidate;
    updateInForceLabel();
    scheduleEmit();
}

void PolicyPanel::refuse(Field field, const QString& reason) {
    refusals_->refuse(static_cast<int>(field), reason, widgetsOf(field));
    emit refused(tr("Refused: %1. In force: %2").arg(reason, QString::fromStdString(policy_.describe())));
}

void PolicyPanel::clearRefusals() { refusals_->clearAll(); }

QString PolicyPanel::refusal() const { return refusals_->text(); }

bool PolicyPanel::isRefused(Field field) const { return refusals_->has(static_cast<int>(field)); }

QList<QWidget*> PolicyPanel::widgetsOf(Field field) const {
    switch (field) {
        case Field::Kind: return {kind_combo_};
        case Field::Window: return {window_->spinBox()};
        case Field::Sinks: return {sinks_->spinBox()};
        case Field::Pins: return {pin_list_};
        case Field::PinEvery: return {pin_every_spin_};
        case Field::PinSeparators: return {pin_separators_check_};
        case Field::H2oHeavy: return {h2o_heavy_spin_};
        case Field::H2oRecent: return {h2o_recent_spin_};
        case Field::Budget: return {budget_spin_};
        case Field::FullEvery: return {full_every_spin_};
        case Field::Dynamic: return {dynamic_edit_};
        case Field::KvType: return {kv_type_combo_};
        case Field::Positions: return {position_combo_};
        case Field::InForce: return {in_force_label_};
    }
    return {};
}

QString PolicyPanel::fieldName(Field field) const {
    switch (field) {
        case Field::Kind: return tr("Policy");
        case Field::Window: return tr("Window W");
        case Field::Sinks: return tr("Sinks S");
        case Field::Pins: return tr("Pinned tokens");
        case Field::PinEvery: return tr("Pin every k-th");
        case Field::PinSeparators: return tr("Pin separators");
        case Field::H2oHeavy: return tr("Heavy H");
        case Field::H2oRecent: return tr("Recent R");
        case Field::Budget: return tr("Budget B");
        case Field::FullEvery: return tr("Every k-th layer full");
        case Field::Dynamic: return tr("Dynamic window");
        case Field::KvType: return tr("KV value type");
        case Field::Positions: return tr("Position mode");
        case Field::InForce: return tr("Policy in force");
    }
    return {};
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
    std::set<Field> held = refusedFields();
    held.erase(Field::Pins);
    held.erase(Field::InForce);
    if (!policyFromControls(candidate, error, held)) {
        refuse(Field::Dynamic, tr("Dynamic window: %1").arg(error));
        return;
    }
    if (candidate.pins.count(position) != 0) candidate.pins.erase(position);
    else candidate.pins.insert(position);
    // Under another policy the engine refuses any pin ("pins apply to the global
    // policy only"); the list is only touched once the new set validates.
    error = validation_error(candidate, n_ctx_, n_layer_, text_length_);
    if (!error.isEmpty()) {
        refuse(Field::Pins,
               candidate.kind == PolicyKind::Global ? error : tr("%1; choose the global policy to pin tokens").arg(error));
        return;
    }
    refusals_->clear(static_cast<int>(Field::Pins));
    refusals_->clear(static_cast<int>(Field::InForce));
    setPinList(candidate.pins);
    accept(candidate);
}

void PolicyPanel::removeSelectedPins() {
    const QList<QListWidgetItem*> selected = pin_list_->selectedItems();
    if (selected.isEmpty()) return;
    for (QListWidgetItem* item : selected) delete pin_list_->takeItem(pin_list_->row(item));
    onEdited(Field::Pins);
}

void PolicyPanel::setPinList(const std::set<int32_t>& pins) {
    pin_list_->clear();
    for (int32_t p : pins) {  // std::set: ascending
        const QString text = token_text_ ? token_text_(p) : QString();
        auto* item = new QListWidgetItem(text.isEmpty() ? tr("position %1").arg(p)
                                                        : tr("position %1 · %2").arg(p).arg(text),
                                         pin_list_);
        item->setData(Qt::UserRole, p);
    }
    remove_pins_button_->setEnabled(false);
}

std::set<int32_t> PolicyPanel::pinsInList() const {
    std::set<int32_t> pins;
    for (int i = 0; i < pin_list_->count(); ++i) pins.insert(pin_list_->item(i)->data(Qt::UserRole).toInt());
    return pins;
}

void PolicyPanel::setTokenText(std::function<QString(int32_t)> token_text) {
    token_text_ = std::move(token_text);
    setPinList(pinsInList());
}

void PolicyPanel::setPolicyNote(std::function<QString(const PolicyConfig&)> note) {
    policy_note_ = std::move(note);
    updateInForceLabel();
}

void PolicyPanel::updateInForceLabel() {
    QString text = tr("In force: %1").arg(QString::fromStdString(policy_.describe()));
    if (policy_note_)
        if (const QString note = policy_note_(policy_); !note.isEmpty()) text += QLatin1Char('\n') + note;
    in_force_label_->setText(text);
    emit inForceChanged(policy_);
}

}  // namespace kvscope::gui
