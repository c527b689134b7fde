#include "controls/generation_panel.h"

#include "controls/checked_spin_box.h"
#include "controls/field_refusals.h"
#include "controls/refusal_label.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStringList>
#include <QVBoxLayout>

#include <limits>

#include "util/error.h"

namespace kvscope::gui {
namespace {

enum class SamplingMode { Greedy = 0, Sample = 1 };

// Until setMaxContext: the largest context any model we load is likely to
// claim; the lead bounds it by the model's training context.
constexpr int32_t kDefaultMaxContext = 1 << 17;
constexpr int32_t kDefaultContext = 2048;
// The smallest temperature the spin box shows (0 itself means greedy, chosen by the mode).
constexpr double kMinTemperature = 0.001;

}  // namespace

GenerationPanel::GenerationPanel(QWidget* parent) : QWidget(parent) {
    buildWidgets();
    refusals_ = std::make_unique<FieldRefusals>(refusal_label_);
    setToolTips();
    // Sampling defaults: greedy; when switched to sample, a common temperature 0.8, top-p 0.95.
    temperature_spin_->setValue(0.8);
    top_p_spin_->setValue(0.95);
    seed_edit_->setText(QStringLiteral("0"));
    updateSamplingEnabled();

    connect(prompt_edit_, &QPlainTextEdit::textChanged, this, &GenerationPanel::settingsChanged);
    connect(chat_check_, &QCheckBox::toggled, this, &GenerationPanel::settingsChanged);
    connect(mode_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        updateSamplingEnabled();
        onSamplingEdited();
    });
    connect(temperature_spin_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &GenerationPanel::onSamplingEdited);
    connect(top_k_spin_, qOverload<int>(&QSpinBox::valueChanged), this, &GenerationPanel::onSamplingEdited);
    connect(top_p_spin_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &GenerationPanel::onSamplingEdited);
    connect(seed_edit_, &QLineEdit::editingFinished, this, &GenerationPanel::onSamplingEdited);
    // A value the user picks supersedes a refused request for that control.
    connect(context_spin_, qOverload<int>(&QSpinBox::valueChanged), this, [this] {
        context_note_->hide();
        clearRefusal(RefusalGroup::Context);
        emit settingsChanged();
    });
    connect(max_new_spin_, qOverload<int>(&QSpinBox::valueChanged), this, [this] {
        clearRefusal(RefusalGroup::MaxNewTokens);
        emit settingsChanged();
    });
    // Typed values outside a box's range: said, not silently put back.
    connect(top_k_spin_, &CheckedSpinBox::valueRefused, this,
            [this](const QString& why) { refuse(RefusalGroup::Sampling, tr("Top-k: %1").arg(why)); });
    connect(context_spin_, &CheckedSpinBox::valueRefused, this,
            [this](const QString& why) { refuse(RefusalGroup::Context, tr("Context length: %1").arg(why)); });
    connect(max_new_spin_, &CheckedSpinBox::valueRefused, this,
            [this](const QString& why) { refuse(RefusalGroup::MaxNewTokens, tr("Max new tokens: %1").arg(why)); });
}

GenerationPanel::~GenerationPanel() = default;

void GenerationPanel::buildWidgets() {
    auto* top = new QVBoxLayout(this);
    prompt_edit_ = new QPlainTextEdit(this);
    prompt_edit_->setObjectName(QStringLiteral("promptEdit"));
    prompt_edit_->setPlaceholderText(tr("Prompt"));
    top->addWidget(prompt_edit_, 1);
    chat_check_ = new QCheckBox(tr("Chat template (the model's user turn)"), this);
    chat_check_->setObjectName(QStringLiteral("chatTemplateCheck"));
    top->addWidget(chat_check_);

    auto* form = new QFormLayout;
    mode_combo_ = new QComboBox(this);
    mode_combo_->setObjectName(QStringLiteral("samplingModeCombo"));
    mode_combo_->addItem(tr("greedy"), static_cast<int>(SamplingMode::Greedy));
    mode_combo_->addItem(tr("sample"), static_cast<int>(SamplingMode::Sample));
    form->addRow(tr("Sampling"), mode_combo_);
    temperature_spin_ = new QDoubleSpinBox(this);
    temperature_spin_->setObjectName(QStringLiteral("temperatureSpin"));
    temperature_spin_->setDecimals(3);
    temperature_spin_->setRange(kMinTemperature, 100.0);  // the engine's range, 0 = the greedy mode
    temperature_spin_->setSingleStep(0.05);
    temperature_spin_->setKeyboardTracking(false);
    form->addRow(tr("Temperature"), temperature_spin_);
    top_k_spin_ = new CheckedSpinBox(this);
    top_k_spin_->setObjectName(QStringLiteral("topKSpin"));
    top_k_spin_->setRange(0, 1 << 24);
    top_k_spin_->setSpecialValueText(tr("off"));
    top_k_spin_->setKeyboardTracking(false);
    form->addRow(tr("Top-k"), top_k_spin_);
    top_p_spin_ = new QDoubleSpinBox(this);
    top_p_spin_->setObjectName(QStringLiteral("topPSpin"));
    top_p_spin_->setDecimals(3);
    // 0 can be entered on purpose: the engine's check refuses it with its reason.
    top_p_spin_->setRange(0.0, 1.0);
    top_p_spin_->setSingleStep(0.05);
    top_p_spin_->setKeyboardTracking(false);
    form->addRow(tr("Top-p"), top_p_spin_);
    seed_edit_ = new QLineEdit(this);
    seed_edit_->setObjectName(QStringLiteral("seedEdit"));
    seed_edit_->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{1,20}")), seed_edit_));
    form->addRow(tr("Seed"), seed_edit_);
    context_spin_ = new CheckedSpinBox(this);
    context_spin_->setObjectName(QStringLiteral("contextLengthSpin"));
    context_spin_->setRange(1, kDefaultMaxContext);
    context_spin_->setValue(kDefaultContext);
    context_spin_->setKeyboardTracking(false);
    context_spin_->setGroupSeparatorShown(true);
    form->addRow(tr("Context length"), context_spin_);
    max_new_spin_ = new CheckedSpinBox(this);
    max_new_spin_->setObjectName(QStringLiteral("maxNewTokensSpin"));
    max_new_spin_->setRange(1, kMaxNewTokensLimit);
    max_new_spin_->setValue(256);
    max_new_spin_->setKeyboardTracking(false);
    max_new_spin_->setGroupSeparatorShown(true);
    form->addRow(tr("Max new tokens"), max_new_spin_);
    top->addLayout(form);

    context_note_ = new QLabel(this);
    context_note_->setObjectName(QStringLiteral("contextNote"));
    context_note_->setTextFormat(Qt::PlainText);
    context_note_->setWordWrap(true);
    context_note_->hide();
    top->addWidget(context_note_);
    refusal_label_ = make_refusal_label(this);
    top->addWidget(refusal_label_);
}

void GenerationPanel::setToolTips() {
    prompt_edit_->setToolTip(tr("The text the model continues. Reset or Replay runs it again."));
    chat_check_->setToolTip(tr("Wrap the prompt as a user turn in the model's chat format, followed by the assistant's\n"
                               "turn, as instruction-tuned models expect: ChatML (<|im_start|>user ... <|im_end|>),\n"
                               "or Gemma's turns (<start_of_turn>user ... <end_of_turn>) for Gemma 3."));
    mode_combo_->setToolTip(tr("greedy: always the most likely token (deterministic)\n"
                               "sample: draw from the softmax at the temperature, after the top-k and top-p cuts"));
    temperature_spin_->setToolTip(tr("Divides the logits: below 1 sharpens the distribution, above 1 flattens it."));
    top_k_spin_->setToolTip(tr("Sample only among the k most likely tokens; off = the whole vocabulary."));
    top_p_spin_->setToolTip(tr("Nucleus sampling: the smallest set of tokens whose probabilities add up to p, in (0, 1];\n"
                               "1 = no cut."));
    seed_edit_->setToolTip(tr("Seed of the random generator: the same seed gives the same run on every machine.\n"
                              "Press Enter to apply."));
    context_spin_->setToolTip(tr("Context length n_ctx: the most positions a session holds, up to the model's training\n"
                                 "context. Applies when the session restarts."));
    max_new_spin_->setToolTip(tr("How many tokens Run generates at most (it also stops when the context is full)."));
}

QString GenerationPanel::prompt() const { return prompt_edit_->toPlainText(); }

void GenerationPanel::setPrompt(const QString& text) {
    const QSignalBlocker block(prompt_edit_);
    prompt_edit_->setPlainText(text);
}

bool GenerationPanel::chatTemplate() const { return chat_check_->isChecked(); }

void GenerationPanel::setChatTemplate(bool on) {
    const QSignalBlocker block(chat_check_);
    chat_check_->setChecked(on);
}

void GenerationPanel::updateSamplingEnabled() {
    const bool sample = mode_combo_->currentData().toInt() == static_cast<int>(SamplingMode::Sample);
    temperature_spin_->setEnabled(sample);
    top_k_spin_->setEnabled(sample);
    top_p_spin_->setEnabled(sample);
    seed_edit_->setEnabled(sample);
}

bool GenerationPanel::samplingFromControls(SamplingParams& out, QString& error) const {
    SamplingParams p;
    bool ok = false;
    const qulonglong seed = seed_edit_->text().toULongLong(&ok);
    if (!ok) {
        error = tr("seed must be a whole number between 0 and %1, got '%2'")
                    .arg(std::numeric_limits<quint64>::max())
                    .arg(seed_edit_->text());
        return false;
    }
    p.seed = seed;
    if (mode_combo_->currentData().toInt() == static_cast<int>(SamplingMode::Sample)) {
        p.temperature = static_cast<float>(temperature_spin_->value());
        p.top_k = top_k_spin_->value();
        p.top_p = static_cast<float>(top_p_spin_->value());
    }
    out = p;
    return true;
}

void GenerationPanel::onSamplingEdited() {
    SamplingParams candidate;
    QString error;
    if (!samplingFromControls(candidate, error)) {
        refuse(RefusalGroup::Sampling, error);
        return;
    }
    try {
        candidate.validate();
    } catch (const InvalidSetting& e) {
        refuse(RefusalGroup::Sampling, QString::fromStdString(e.what()));
        return;
    }
    clearRefusal(RefusalGroup::Sampling);
    sampling_ = candidate;
    emit settingsChanged();
}

void GenerationPanel::setSampling(const SamplingParams& params) {
    try {
        params.validate();
    } catch (const InvalidSetting& e) {
        refuse(RefusalGroup::Sampling, QString::fromStdString(e.what()));
        return;
    }
    if (params.temperature > 0.0f && params.temperature < kMinTemperature) {
        refuse(RefusalGroup::Sampling, tr("temperature %1 is below the smallest the panel shows (%2); use 0 for greedy")
                   .arg(static_cast<double>(params.temperature))
                   .arg(kMinTemperature));
        return;
    }
    if (params.top_k > top_k_spin_->maximum()) {
        refuse(RefusalGroup::Sampling, tr("top-k must be at most %1, got %2").arg(top_k_spin_->maximum()).arg(params.top_k));
        return;
    }
    showSampling(params);
    // What the controls give back (greedy drops top-k/top-p) is the sampling in force.
    SamplingParams shown;
    QString error;
    if (samplingFromControls(shown, error)) sampling_ = shown;
    clearRefusal(RefusalGroup::Sampling);
}

void GenerationPanel::showSampling(const SamplingParams& p) {
    const QSignalBlocker b1(mode_combo_), b2(temperature_spin_), b3(top_k_spin_), b4(top_p_spin_), b5(seed_edit_);
    const bool sample = p.temperature > 0.0f;
    mode_combo_->setCurrentIndex(mode_combo_->findData(static_cast<int>(sample ? SamplingMode::Sample : SamplingMode::Greedy)));
    if (sample) temperature_spin_->setValue(static_cast<double>(p.temperature));
    top_k_spin_->setValue(p.top_k);
    top_p_spin_->setValue(static_cast<double>(p.top_p));
    seed_edit_->setText(QString::number(p.seed));
    updateSamplingEnabled();
}

int32_t GenerationPanel::contextLength() const { return context_spin_->value(); }

void GenerationPanel::setContextLength(int32_t n_ctx) {
    if (n_ctx < 1 || n_ctx > context_spin_->maximum()) {
        refuse(RefusalGroup::Context, tr("context length must be between 1 and %1 (the model's training context), got %2")
                   .arg(context_spin_->maximum())
                   .arg(n_ctx));
        return;
    }
    const QSignalBlocker block(context_spin_);
    context_spin_->setValue(n_ctx);
    context_note_->hide();
    clearRefusal(RefusalGroup::Context);
}

int32_t GenerationPanel::maxContext() const { return context_spin_->maximum(); }

void GenerationPanel::setMaxContext(int32_t n_ctx_train) {
    if (n_ctx_train < 1) {
        refuse(RefusalGroup::Context, tr("the model's training context must be at least 1, got %1").arg(n_ctx_train));
        return;
    }
    const int32_t before = context_spin_->value();
    const QSignalBlocker block(context_spin_);
    context_spin_->setMaximum(n_ctx_train);
    if (before > n_ctx_train) {
        // Said out loud rather than clamped silently.
        context_note_->setText(tr("Context length lowered from %1 to %2, the model's training context.")
                                   .arg(before)
                                   .arg(n_ctx_train));
        context_note_->show();
    } else {
        context_note_->hide();  // a note about an earlier model no longer applies
    }
    // New bounds: a request refused under the old ones no longer applies.
    clearRefusal(RefusalGroup::Context);
}

int32_t GenerationPanel::maxNewTokens() const { return max_new_spin_->value(); }

void GenerationPanel::setMaxNewTokens(int32_t n) {
    if (n < 1 || n > kMaxNewTokensLimit) {
        refuse(RefusalGroup::MaxNewTokens, tr("max new tokens must be between 1 and %1, got %2").arg(kMaxNewTokensLimit).arg(n));
        return;
    }
    const QSignalBlocker block(max_new_spin_);
    max_new_spin_->setValue(n);
    clearRefusal(RefusalGroup::MaxNewTokens);
}

QString GenerationPanel::refusal() const { return refusals_->text(); }

void GenerationPanel::refuse(RefusalGroup group, const QString& reason) {
    QList<QWidget*> widgets;
    switch (group) {
        case RefusalGroup::Sampling: widgets = {mode_combo_, temperature_spin_, top_k_spin_, top_p_spin_, seed_edit_}; break;
        case RefusalGroup::Context: widgets = {context_spin_}; break;
        case RefusalGroup::MaxNewTokens: widgets = {max_new_spin_}; break;
    }
    // Only the controls in use: a disabled one cannot be what was refused.
    widgets.removeIf([](const QWidget* w) { return !w->isEnabled(); });
    refusals_->refuse(static_cast<int>(group), reason, widgets);
    emit refused(tr("Refused: %1").arg(reason));
}

void GenerationPanel::clearRefusal(RefusalGroup group) { refusals_->clear(static_cast<int>(group)); }

}  // namespace kvscope::gui
