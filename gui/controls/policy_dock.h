#pragma once
// The policy dock's form (DESIGN.md §3): cache policy, its sizes, pins, the
// per-layer pattern, the dynamic window, KV value type and position mode, the
// reference run and Replay. It never runs the engine: it emits the settings and
// the lead's controller forwards them to the decoding worker.
//
// Every edit builds a PolicyConfig from the controls and checks it with
// PolicyConfig::validate for the limits of setLimits. A valid one becomes the
// policy in force and is emitted (policyChanged); an invalid one is refused:
// the field is outlined in red with the engine's reason in its tooltip, the
// reason is listed under "In force" at the top of the panel, returned by
// refusal() and emitted (refused) for the status bar; nothing else changes.
// Refusals are kept per field, and a refused field never blocks the others:
// an edit of another field is judged with the refused fields at their values
// in force (e.g. a Dynamic window of "abc:xyz" does not stop W from changing).
// A spin box's typed value outside its range is refused the same way (Qt
// would put the old value back silently).
// While a slider is dragged, emissions are coalesced to at most one per
// kDragEmitIntervalMs, and the final value is emitted on release.
//
// Pins (togglePin, e.g. from a click in the text view) apply to the global
// policy only: under any other policy togglePin is refused with the engine's
// reason rather than silently switching the policy (which would change the
// window semantics the user chose).
#include <QString>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>

#include "kv/kv_policy.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;
class QTimer;

namespace kvscope::gui {

class CheckedSpinBox;
class FieldRefusals;
class SliderSpin;

class PolicyPanel : public QWidget {  // the lead puts it in a QDockWidget
    Q_OBJECT
public:
    static constexpr int kDragEmitIntervalMs = 100;

    explicit PolicyPanel(QWidget* parent = nullptr);
    ~PolicyPanel() override;

    // What is valid depends on the model and the text so far: n_ctx, n_layer
    // and the text length (pins must lie in it). Bounds every spin box and
    // slider; never emits. If the policy in force no longer fits (e.g. a pin
    // beyond a shorter new text), refusal() says so; it stays in force until
    // the user edits it. Until the first call: n_ctx 2048, 1 layer, empty text.
    void setLimits(int32_t n_ctx, int32_t n_layer, int32_t text_length);
    // A line the "In force" label adds under the policy, e.g. how it meets a
    // model's own sliding windows (native_window_note); "" adds nothing.
    void setPolicyNote(std::function<QString(const PolicyConfig&)> note);
    int32_t contextLimit() const { return n_ctx_; }
    int32_t layerLimit() const { return n_layer_; }
    int32_t textLength() const { return text_length_; }

    // Shows `policy` without emitting and makes it the policy in force; a policy
    // that does not validate under the current limits is refused (refusal() set,
    // the policy in force unchanged).
    void setPolicy(const PolicyConfig& policy);
    PolicyConfig policy() const { return policy_; }  // the policy in force (always valid when set)

    bool referenceRun() const;
    void setReferenceRun(bool on);  // shows without emitting

    // Adds `position` to the pinned set, or removes it when already pinned, and
    // emits the new policy. Refused (with the reason) when the policy is not
    // global or the position lies outside the text.
    void togglePin(int32_t position);

    // "" or every refusal still standing (one per line, newest first).
    QString refusal() const;

    // Names pinned positions by their text in the pin list ("position 74 · Paris").
    void setTokenText(std::function<QString(int32_t)> token_text);

    // The form's fields, for refusals and for tests.
    enum class Field { Kind, Window, Sinks, Pins, PinEvery, PinSeparators, H2oHeavy, H2oRecent, Budget, FullEvery, Dynamic, KvType, Positions, InForce };
    // Whether `field` stands refused (its widget outlined).
    bool isRefused(Field field) const;

signals:
    void policyChanged(const kvscope::PolicyConfig& policy);  // only valid configs (PolicyConfig::validate passed)
    void refused(const QString& message);  // a refusal as one line for the status bar
    // The policy in force changed, by an edit or by setPolicy (which emits no policyChanged).
    void inForceChanged(const kvscope::PolicyConfig& policy);
    void referenceRunChanged(bool on);
    void replayRequested();

private:
    PolicyKind policy_kind() const;  // the kind the combo shows
    void buildWidgets();
    void setToolTips();
    void applyLimitsToWidgets();
    void showPolicy(const PolicyConfig& policy);  // controls only, no signals
    void updateEnabled();
    void onEdited(Field field);  // a control changed by the user
    // Builds the config the controls show, with the fields in `held_back` at
    // their values in force; false (with `error`) when the dynamic-window text
    // is not held back and does not parse.
    bool policyFromControls(PolicyConfig& out, QString& error, const std::set<Field>& held_back = {}) const;
    std::set<Field> refusedFields() const;
    void accept(const PolicyConfig& candidate);
    void refuse(Field field, const QString& reason);
    void clearRefusals();
    QList<QWidget*> widgetsOf(Field field) const;
    QString fieldName(Field field) const;
    void scheduleEmit();
    void flushPendingEmit();
    bool anySliderDragging() const;
    void setPinList(const std::set<int32_t>& pins);
    std::set<int32_t> pinsInList() const;
    void removeSelectedPins();
    void updateInForceLabel();

    int32_t n_ctx_ = 2048;
    int32_t n_layer_ = 1;
    int32_t text_length_ = 0;
    PolicyConfig policy_;      // the policy in force (last valid)
    std::unique_ptr<FieldRefusals> refusals_;
    std::function<QString(int32_t)> token_text_;
    bool emit_pending_ = false;  // a change seen mid-drag is waiting for the coalescing timer
    // A percent budget in force (set by setPolicy: the dock has no control for
    // it) stays until the policy or its size controls are edited.
    bool keep_percent_budget_ = false;

    QComboBox* kind_combo_ = nullptr;
    SliderSpin* window_ = nullptr;
    SliderSpin* sinks_ = nullptr;
    QListWidget* pin_list_ = nullptr;
    QPushButton* remove_pins_button_ = nullptr;
    CheckedSpinBox* pin_every_spin_ = nullptr;
    CheckedSpinBox* h2o_heavy_spin_ = nullptr;
    CheckedSpinBox* h2o_recent_spin_ = nullptr;
    CheckedSpinBox* budget_spin_ = nullptr;  // tova's B
    QCheckBox* pin_separators_check_ = nullptr;  // global: SepLLM's separator pins
    CheckedSpinBox* full_every_spin_ = nullptr;
    QLineEdit* dynamic_edit_ = nullptr;
    QComboBox* kv_type_combo_ = nullptr;
    QComboBox* position_combo_ = nullptr;
    QCheckBox* reference_check_ = nullptr;
    QPushButton* replay_button_ = nullptr;
    QLabel* refusal_label_ = nullptr;
    QLabel* in_force_label_ = nullptr;
    std::function<QString(const PolicyConfig&)> policy_note_;  // setPolicyNote; may be empty
    QTimer* drag_emit_timer_ = nullptr;
};

}  // namespace kvscope::gui
