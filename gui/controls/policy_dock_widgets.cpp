// PolicyPanel's widgets, layout and tooltips (the behaviour is in policy_dock.cpp).
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

#include "controls/checked_spin_box.h"
#include "controls/refusal_label.h"
#include "controls/policy_dock.h"
#include "controls/slider_spin.h"
#include "kv/policy_registry.h"

namespace kvscope::gui {
namespace {

CheckedSpinBox* make_spin(QWidget* parent, const char* object_name) {
    auto* spin = new CheckedSpinBox(parent);
    spin->setObjectName(QLatin1String(object_name));
    spin->setKeyboardTracking(false);  // one change per typed number
    spin->setAccelerated(true);
    return spin;
}

QLabel* make_note(const QString& text, QWidget* parent) {
    auto* note = new QLabel(text, parent);
    note->setWordWrap(true);
    QFont font = note->font();
    font.setItalic(true);
    note->setFont(font);
    return note;
}

}  // namespace

void PolicyPanel::buildWidgets() {
    auto* top = new QVBoxLayout(this);

    // --- what is in force and what was refused, first, where the eye starts
    in_force_label_ = new QLabel(this);
    in_force_label_->setObjectName(QStringLiteral("inForceLabel"));
    in_force_label_->setTextFormat(Qt::PlainText);  // QLabel's AutoText would render markup in the text
    in_force_label_->setWordWrap(true);
    in_force_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = in_force_label_->font();
    bold.setBold(true);
    in_force_label_->setFont(bold);
    top->addWidget(in_force_label_);
    refusal_label_ = make_refusal_label(this);
    top->addWidget(refusal_label_);

    // --- the policy and its sizes
    auto* policy_box = new QGroupBox(tr("Cache policy"), this);
    auto* policy_form = new QFormLayout(policy_box);
    kind_combo_ = new QComboBox(policy_box);
    kind_combo_->setObjectName(QStringLiteral("policyKindCombo"));
    for (const PolicyInfo& info : policy_registry())
        kind_combo_->addItem(QString::fromUtf8(info.label), static_cast<int>(info.kind));
    policy_form->addRow(tr("Policy"), kind_combo_);
    window_ = new SliderSpin(policy_box);
    window_->setObjectName(QStringLiteral("windowControl"));
    window_->slider()->setObjectName(QStringLiteral("windowSlider"));
    window_->spinBox()->setObjectName(QStringLiteral("windowSpin"));
    policy_form->addRow(tr("Window W"), window_);
    sinks_ = new SliderSpin(policy_box);
    sinks_->setObjectName(QStringLiteral("sinksControl"));
    sinks_->slider()->setObjectName(QStringLiteral("sinksSlider"));
    sinks_->spinBox()->setObjectName(QStringLiteral("sinksSpin"));
    policy_form->addRow(tr("Sinks S"), sinks_);
    budget_spin_ = make_spin(policy_box, "budgetSpin");
    policy_form->addRow(tr("Budget B"), budget_spin_);
    top->addWidget(policy_box);

    // --- pins (global policy)
    auto* pins_box = new QGroupBox(tr("Pinned tokens (global)"), this);
    auto* pins_layout = new QVBoxLayout(pins_box);
    pin_list_ = new QListWidget(pins_box);
    pin_list_->setObjectName(QStringLiteral("pinList"));
    pin_list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    pin_list_->setMaximumHeight(pin_list_->fontMetrics().height() * 6);  // about five rows, in the font's units
    pins_layout->addWidget(pin_list_);
    auto* pins_row = new QHBoxLayout;
    remove_pins_button_ = new QPushButton(tr("Remove selected"), pins_box);
    remove_pins_button_->setObjectName(QStringLiteral("removePinsButton"));
    pins_row->addWidget(remove_pins_button_);
    pins_row->addStretch(1);
    pins_row->addWidget(new QLabel(tr("Pin every k-th"), pins_box));
    pin_every_spin_ = make_spin(pins_box, "pinEverySpin");
    pin_every_spin_->setSpecialValueText(tr("off"));
    pins_row->addWidget(pin_every_spin_);
    pins_layout->addLayout(pins_row);
    pin_separators_check_ = new QCheckBox(tr("Pin separators (. , ; : ! ? line breaks)"), pins_box);
    pin_separators_check_->setObjectName(QStringLiteral("pinSeparatorsCheck"));
    pins_layout->addWidget(pin_separators_check_);
    top->addWidget(pins_box);

    // --- h2o
    auto* h2o_box = new QGroupBox(tr("Heavy hitters (h2o)"), this);
    auto* h2o_form = new QFormLayout(h2o_box);
    h2o_heavy_spin_ = make_spin(h2o_box, "h2oHeavySpin");
    h2o_form->addRow(tr("Heavy H"), h2o_heavy_spin_);
    h2o_recent_spin_ = make_spin(h2o_box, "h2oRecentSpin");
    h2o_form->addRow(tr("Recent R"), h2o_recent_spin_);
    top->addWidget(h2o_box);

    // --- per layer and per length
    auto* shape_box = new QGroupBox(tr("Layers and length"), this);
    auto* shape_form = new QFormLayout(shape_box);
    full_every_spin_ = make_spin(shape_box, "fullEverySpin");
    full_every_spin_->setSpecialValueText(tr("off"));
    shape_form->addRow(tr("Every k-th layer full"), full_every_spin_);
    dynamic_edit_ = new QLineEdit(shape_box);
    dynamic_edit_->setObjectName(QStringLiteral("dynamicWindowEdit"));
    dynamic_edit_->setPlaceholderText(tr("e.g. 1024:full, 8192:2048, 4096"));
    dynamic_edit_->setClearButtonEnabled(true);
    shape_form->addRow(tr("Dynamic window"), dynamic_edit_);
    top->addWidget(shape_box);

    // --- storage, fixed per run
    auto* storage_box = new QGroupBox(tr("Storage"), this);
    auto* storage_form = new QFormLayout(storage_box);
    kv_type_combo_ = new QComboBox(storage_box);
    kv_type_combo_->setObjectName(QStringLiteral("kvTypeCombo"));
    for (KvValueType t : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0})
        kv_type_combo_->addItem(QString::fromLatin1(kv_value_type_name(t)), static_cast<int>(t));
    storage_form->addRow(tr("KV value type"), kv_type_combo_);
    position_combo_ = new QComboBox(storage_box);
    position_combo_->setObjectName(QStringLiteral("positionModeCombo"));
    for (PositionMode m : {PositionMode::Original, PositionMode::InCache})
        position_combo_->addItem(QString::fromLatin1(position_mode_name(m)), static_cast<int>(m));
    storage_form->addRow(tr("Position mode"), position_combo_);
    auto* replay_note = make_note(tr("KV type and position mode apply at the next Replay (fixed per run)."), storage_box);
    replay_note->setObjectName(QStringLiteral("replayNote"));
    storage_form->addRow(replay_note);
    top->addWidget(storage_box);

    // --- reference run, replay
    auto* run_row = new QHBoxLayout;
    reference_check_ = new QCheckBox(tr("Reference run"), this);
    reference_check_->setObjectName(QStringLiteral("referenceRunCheck"));
    run_row->addWidget(reference_check_);
    run_row->addStretch(1);
    replay_button_ = new QPushButton(tr("Replay"), this);
    replay_button_->setObjectName(QStringLiteral("replayButton"));
    run_row->addWidget(replay_button_);
    top->addLayout(run_row);
    top->addStretch(1);

    drag_emit_timer_ = new QTimer(this);
    drag_emit_timer_->setSingleShot(true);
    drag_emit_timer_->setInterval(kDragEmitIntervalMs);
}

void PolicyPanel::setToolTips() {
    kind_combo_->setToolTip(tr(
        "Which positions each layer keeps after every token:\n"
        "full: every position (capacity = context length)\n"
        "window: the last W positions (Mistral-style rolling buffer)\n"
        "sinks + window: the first S positions (attention sinks) plus the last W − S (StreamingLLM)\n"
        "global: the first S and the pinned positions kept forever plus the last W (Longformer-style global tokens;\n"
        "  with Pin separators ticked, SepLLM)\n"
        "h2o: the H positions with the most accumulated attention plus the R most recent (Heavy-Hitter Oracle)\n"
        "tova: at most B positions; over budget, those the latest query attended to least go (TOVA)\n"
        "knorm: at most B positions; over budget, the keys with the largest norm go\n"
        "keydiff: at most B positions; over budget, the keys most like the mean key go (KeyDiff)\n"
        "Changes apply from the next step; Replay re-runs the text under them."));
    window_->setToolTips(tr("Window W: how many recent positions a layer keeps (window, sinks + window, global).\n"
                            "Under sinks + window, W counts the sinks. Ignored when a dynamic window is set."));
    sinks_->setToolTips(tr("Sinks S: the first S positions, kept forever (StreamingLLM's attention sinks: the model\n"
                           "dumps attention on the first tokens, and evicting them breaks it). Under sinks + window they\n"
                           "count in W and must be fewer than W; under global they are kept on top of W (SepLLM's first tokens)."));
    pin_list_->setToolTip(tr("Positions kept forever under the global policy. Click a token in the text to pin or unpin it."));
    remove_pins_button_->setToolTip(tr("Unpin the selected positions."));
    pin_every_spin_->setToolTip(tr("Also pin every k-th position (0, 1·k, 2·k, ...); off = 0."));
    pin_separators_check_->setToolTip(tr("Also pin every separator token as it arrives: punctuation that ends a clause or\n"
                                         "sentence and line breaks (SepLLM, Chen et al. 2024: pin the first tokens too and\n"
                                         "keep a window, and the separators carry the segments they close)."));
    h2o_heavy_spin_->setToolTip(tr("Heavy hitters H: keep the H older positions that received the most attention so far\n"
                                   "(H2O, Zhang et al. 2023)."));
    budget_spin_->setToolTip(tr("Budget B (tova, knorm, keydiff): the most positions a layer holds, the new one included.\n"
                                "Over budget, tova evicts what the latest query attended to least (TOVA, Oren et al. 2024),\n"
                                "knorm the keys with the largest L2 norm, keydiff the keys most like the mean key."));
    h2o_recent_spin_->setToolTip(tr("Recent R: always keep the R most recent positions (at least 1: the new token)."));
    full_every_spin_->setToolTip(tr("Per-layer pattern: every k-th layer (1-based) keeps the full cache, the others follow\n"
                                    "the policy (Gemma-style interleave); off = 0."));
    dynamic_edit_->setToolTip(tr("The window follows the sequence length by steps: LENGTH:WINDOW, ... (WINDOW a number or\n"
                                 "'full'; the last step may be WINDOW alone). E.g. 1024:full, 8192:2048, 4096 = full below\n"
                                 "1,024 tokens, 2,048 below 8,192, else 4,096. Press Enter to apply; empty = off."));
    kv_type_combo_->setToolTip(tr("How keys and values are stored: f32, f16, or q8_0 (blocks of 32 values with one f16 scale).\n"
                                  "Applies at the next Replay."));
    position_combo_->setToolTip(tr("original: RoPE at the token's text position (as Mistral/Gemma were trained)\n"
                                   "in-cache: RoPE at the slot's rank inside the cache (StreamingLLM)\n"
                                   "Applies at the next Replay."));
    reference_check_->setToolTip(tr("Run a full-cache copy of the model in lock-step to measure KL divergence, top-1\n"
                                    "agreement and the attention mass the policy evicts (about doubles the work per step)."));
    replay_button_->setToolTip(tr("Re-run the same tokens from the start under the current settings, so the whole\n"
                                  "trace is comparable."));
    in_force_label_->setToolTip(tr("The policy the decoder uses now."));
}

}  // namespace kvscope::gui
