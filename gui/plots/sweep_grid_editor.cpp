#include "plots/sweep_grid_editor.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QSpinBox>
#include <QThread>

#include <algorithm>
#include <limits>

#include "kv/policy_registry.h"
#include "plots/int_list_text.h"
#include "plots/sweep_row_count.h"
#include "util/error.h"

namespace kvscope::gui {

namespace {

bool has(const std::vector<PolicyKind>& v, PolicyKind k) { return std::find(v.begin(), v.end(), k) != v.end(); }
bool has(const std::vector<KvValueType>& v, KvValueType k) { return std::find(v.begin(), v.end(), k) != v.end(); }

QCheckBox* check_box(const QString& text, const QString& name, const QString& tip, QWidget* parent) {
    auto* box = new QCheckBox(text, parent);
    box->setObjectName(name);
    box->setToolTip(tip);
    return box;
}

QHBoxLayout* row_of(std::initializer_list<QWidget*> widgets) {
    auto* row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    for (QWidget* w : widgets) row->addWidget(w);
    row->addStretch(1);
    return row;
}

}  // namespace

SweepGridEditor::SweepGridEditor(QWidget* parent) : QWidget(parent) {
    auto* policies = new QWidget(this);
    auto* policy_grid = new QGridLayout(policies);
    policy_grid->setContentsMargins(0, 0, 0, 0);
    constexpr int kBoxesPerRow = 4;
    for (PolicyKind kind : sweep_policies()) {
        const PolicyInfo& info = policy_info(kind);
        QString name = QString::fromLatin1(info.name);
        name[0] = name[0].toUpper();
        QString tip = QString::fromUtf8(info.rule);
        tip[0] = tip[0].toUpper();
        if (kind == PolicyKind::Full) tip = QStringLiteral("One row per KV type with every position kept (the baseline)");
        else if (kind == PolicyKind::SinksWindow) tip += QStringLiteral(", for each W and S > 0 (S = 0 is the plain window)");
        else if (kind != PolicyKind::Window) tip += QStringLiteral("; each window W is its budget");
        auto* box = check_box(QString::fromUtf8(info.label), QStringLiteral("policy") + name, tip, policies);
        const int i = static_cast<int>(policy_boxes_.size());
        policy_grid->addWidget(box, i / kBoxesPerRow, i % kBoxesPerRow);
        policy_boxes_.emplace_back(kind, box);
    }
    windows_ = new QLineEdit(this);
    windows_->setObjectName(QStringLiteral("windowsEdit"));
    windows_->setPlaceholderText(QStringLiteral("16, 32, 64"));
    windows_->setToolTip(QStringLiteral("Window sizes W (positions kept, sinks included; the budget of h2o, tova, knorm "
                                        "and keydiff), separated by commas; each at least 1 and at most the text's length"));
    sinks_ = new QLineEdit(this);
    sinks_->setObjectName(QStringLiteral("sinksEdit"));
    sinks_->setPlaceholderText(QStringLiteral("0, 4"));
    sinks_->setToolTip(QStringLiteral("Sink counts S for the sinks policy, separated by commas (S < W)"));
    kv_f32_ = check_box("f32", "kvF32", "Keys and values stored as 32-bit floats", this);
    kv_f16_ = check_box("f16", "kvF16", "Keys and values stored as 16-bit floats", this);
    kv_q8_ = check_box("q8_0", "kvQ8", "Keys and values quantised to 8 bits in blocks of 32", this);
    positions_ = new QComboBox(this);
    positions_->setObjectName(QStringLiteral("positionMode"));
    positions_->addItem(QStringLiteral("original"), static_cast<int>(PositionMode::Original));
    positions_->addItem(QStringLiteral("in-cache"), static_cast<int>(PositionMode::InCache));
    positions_->setToolTip(QStringLiteral("RoPE at the text position (original) or at the rank inside the cache "
                                          "(in-cache, as StreamingLLM)"));
    reference_ = check_box("reference run (mean KL, top-1)", "referenceRun",
                           "Also feed a full cache in lock-step to measure KL divergence and top-1 agreement "
                           "(about twice the work)",
                           this);
    threads_ = new QSpinBox(this);
    threads_->setObjectName(QStringLiteral("threads"));
    threads_->setRange(1, std::max(1, QThread::idealThreadCount()));
    threads_->setToolTip(QStringLiteral("CPU threads for the sweep's forward passes"));

    auto* form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(QStringLiteral("Policies"), policies);
    form->addRow(QStringLiteral("Windows W"), windows_);
    form->addRow(QStringLiteral("Sinks S"), sinks_);
    form->addRow(QStringLiteral("KV types"), row_of({kv_f32_, kv_f16_, kv_q8_}));
    form->addRow(QStringLiteral("Positions"), row_of({positions_}));
    form->addRow(QString(), reference_);
    form->addRow(QStringLiteral("Threads"), row_of({threads_}));

    setFields(SweepGrid{});
    setThreads(std::min(4, threads_->maximum()));

    for (const auto& [kind, box] : policy_boxes_) connect(box, &QCheckBox::toggled, this, &SweepGridEditor::changed);
    for (QCheckBox* box : {kv_f32_, kv_f16_, kv_q8_, reference_})
        connect(box, &QCheckBox::toggled, this, &SweepGridEditor::changed);
    for (QLineEdit* edit : {windows_, sinks_}) connect(edit, &QLineEdit::textChanged, this, &SweepGridEditor::changed);
    connect(positions_, &QComboBox::currentIndexChanged, this, &SweepGridEditor::changed);
    connect(threads_, &QSpinBox::valueChanged, this, &SweepGridEditor::changed);
}

void SweepGridEditor::setGrid(const SweepGrid& grid) {
    setFields(grid);
    emit changed();  // once, after the whole grid is in
}

void SweepGridEditor::setFields(const SweepGrid& grid) {
    const QSignalBlocker block(this);
    for (const auto& [kind, box] : policy_boxes_) box->setChecked(has(grid.policies, kind));
    windows_->setText(format_int_list(grid.windows));
    sinks_->setText(format_int_list(grid.sinks));
    kv_f32_->setChecked(has(grid.kv_types, KvValueType::F32));
    kv_f16_->setChecked(has(grid.kv_types, KvValueType::F16));
    kv_q8_->setChecked(has(grid.kv_types, KvValueType::Q8_0));
    positions_->setCurrentIndex(positions_->findData(static_cast<int>(grid.positions)));
    reference_->setChecked(grid.reference);
}

SweepGrid SweepGridEditor::grid() const {
    SweepGrid g;
    g.policies.clear();
    for (const auto& [kind, box] : policy_boxes_)
        if (box->isChecked()) g.policies.push_back(kind);
    g.windows = parse_int_list(windows_->text(), QStringLiteral("windows"), 1).values;
    g.sinks = parse_int_list(sinks_->text(), QStringLiteral("sinks"), 0).values;
    g.kv_types.clear();
    if (kv_f32_->isChecked()) g.kv_types.push_back(KvValueType::F32);
    if (kv_f16_->isChecked()) g.kv_types.push_back(KvValueType::F16);
    if (kv_q8_->isChecked()) g.kv_types.push_back(KvValueType::Q8_0);
    g.positions = static_cast<PositionMode>(positions_->currentData().toInt());
    g.reference = reference_->isChecked();
    return g;
}

QString SweepGridEditor::error() const {
    const SweepGrid g = grid();
    const bool windowed = std::any_of(g.policies.begin(), g.policies.end(), [](PolicyKind k) { return k != PolicyKind::Full; });
    // The lists only matter (and are only checked) for the policies that use them.
    if (windowed) {
        const IntListParse w = parse_int_list(windows_->text(), QStringLiteral("windows"), 1);
        if (!w.error.isEmpty()) return w.error;
    }
    if (has(g.policies, PolicyKind::SinksWindow)) {
        const IntListParse s = parse_int_list(sinks_->text(), QStringLiteral("sinks"), 0);
        if (!s.error.isEmpty()) return s.error;
    }
    if (g.policies.empty()) return QStringLiteral("policies: tick at least one");
    if (g.kv_types.empty()) return QStringLiteral("KV types: tick at least one");
    // Counted before sweep_plan expands it: a grid of a million rows must be
    // refused here, not allocated on every keystroke.
    const uint64_t rows = sweep_row_count(g);
    if (rows > kMaxSweepRows)
        return QStringLiteral("the grid makes %1 rows; at most %2 can run in one sweep (use fewer windows, sinks or KV types)")
            .arg(rows == std::numeric_limits<uint64_t>::max() ? QStringLiteral("too many") : QString::number(rows))
            .arg(kMaxSweepRows);
    try {
        (void)sweep_plan(g);
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

int SweepGridEditor::threads() const { return threads_->value(); }

bool SweepGridEditor::setThreads(int threads) {
    if (threads < threads_->minimum() || threads > threads_->maximum()) return false;
    threads_->setValue(threads);
    return true;
}

}  // namespace kvscope::gui
