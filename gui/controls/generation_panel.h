#pragma once
// The generation settings beside the policy dock (DESIGN.md §3): the prompt
// (optionally wrapped as a user turn in the model's chat format), sampling (greedy, or temperature
// with top-k / top-p and a seed), the context length and the number of new
// tokens. A plain form: the lead reads it when it (re)starts a session.
//
// Sampling edits are checked with SamplingParams::validate: a valid one becomes
// sampling() and settingsChanged is emitted; an invalid one is refused (the
// engine's reason in refusal() and a red label, nothing emitted, the last valid
// sampling kept). The setters show values without emitting; a value outside
// the allowed range is refused the same way rather than clamped.
//
// Refusals are kept per group (sampling, context length, max new tokens): a
// refusal stays shown until its own group gets a valid value, so accepting a
// context length does not hide a sampling refusal whose values the controls
// still show.
#include <QString>
#include <QWidget>

#include <cstdint>
#include <memory>

#include "session/sampler.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace kvscope::gui {

class CheckedSpinBox;
class FieldRefusals;

class GenerationPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr int32_t kMaxNewTokensLimit = 1 << 20;

    explicit GenerationPanel(QWidget* parent = nullptr);
    ~GenerationPanel() override;

    QString prompt() const;
    void setPrompt(const QString& text);
    bool chatTemplate() const;            // wrap the prompt as a user turn (the model's chat format)
    void setChatTemplate(bool on);
    // Greedy mode gives temperature 0 with top-k and top-p off (they do not
    // matter to argmax); the sample mode gives every control's value.
    SamplingParams sampling() const { return sampling_; }  // the last valid sampling
    void setSampling(const SamplingParams& params);        // temperature 0 selects greedy
    int32_t contextLength() const;
    void setContextLength(int32_t n_ctx);                  // refused outside 1..maxContext()
    // The model's training context bounds the context length; a current value
    // above it is lowered to it, and a note says so.
    void setMaxContext(int32_t n_ctx_train);
    int32_t maxContext() const;
    int32_t maxNewTokens() const;
    void setMaxNewTokens(int32_t n);                       // refused outside 1..kMaxNewTokensLimit
    // "" or the refusals that still apply, one per line, the most recent first
    // (sampling ones are SamplingParams::validate's reasons).
    QString refusal() const;

signals:
    void settingsChanged();
    void refused(const QString& message);  // a refusal as one line for the status bar

private:
    void buildWidgets();
    void setToolTips();
    void updateSamplingEnabled();
    void onSamplingEdited();
    bool samplingFromControls(SamplingParams& out, QString& error) const;
    void showSampling(const SamplingParams& params);
    enum class RefusalGroup { Sampling, Context, MaxNewTokens };
    // Replaces the group's earlier refusal; outlines the group's controls.
    void refuse(RefusalGroup group, const QString& reason);
    void clearRefusal(RefusalGroup group);

    SamplingParams sampling_;
    std::unique_ptr<FieldRefusals> refusals_;  // those that still apply, at most one per group

    QPlainTextEdit* prompt_edit_ = nullptr;
    QCheckBox* chat_check_ = nullptr;
    QComboBox* mode_combo_ = nullptr;
    QDoubleSpinBox* temperature_spin_ = nullptr;
    CheckedSpinBox* top_k_spin_ = nullptr;
    QDoubleSpinBox* top_p_spin_ = nullptr;
    QLineEdit* seed_edit_ = nullptr;
    CheckedSpinBox* context_spin_ = nullptr;
    CheckedSpinBox* max_new_spin_ = nullptr;
    QLabel* context_note_ = nullptr;
    QLabel* refusal_label_ = nullptr;
};

}  // namespace kvscope::gui
