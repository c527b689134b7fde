// GenerationPanel (gui/controls/generation_panel.h): prompt, chat template,
// sampling judged by SamplingParams::validate, context length bounded by the
// model's training context, max new tokens.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QtTest>

#include "controls/generation_panel.h"
#include "util/error.h"

using kvscope::SamplingParams;
using kvscope::gui::GenerationPanel;

namespace {

QString engine_reason(const SamplingParams& p) {
    try {
        p.validate();
    } catch (const kvscope::InvalidSetting& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

template <typename T>
T* child(const GenerationPanel& panel, const char* name) {
    T* w = panel.findChild<T*>(QLatin1String(name));
    if (w == nullptr) qFatal("no child %s", name);
    return w;
}

void choose_mode(GenerationPanel& panel, const QString& mode) {
    auto* combo = child<QComboBox>(panel, "samplingModeCombo");
    combo->setCurrentIndex(combo->findText(mode));
}

void type_seed(GenerationPanel& panel, const QString& seed) {
    auto* edit = child<QLineEdit>(panel, "seedEdit");
    edit->clear();
    QTest::keyClicks(edit, seed);
    QTest::keyClick(edit, Qt::Key_Return);
}

}  // namespace

class ControlsGenerationTest : public QObject {
    Q_OBJECT
private slots:
    void samplingReflectsTheControls() {
        GenerationPanel panel;
        QCOMPARE(panel.sampling().temperature, 0.0f);  // greedy by default
        QVERIFY(!child<QWidget>(panel, "temperatureSpin")->isEnabled());
        QSignalSpy spy(&panel, &GenerationPanel::settingsChanged);
        choose_mode(panel, QStringLiteral("sample"));
        QVERIFY(child<QWidget>(panel, "temperatureSpin")->isEnabled());
        child<QDoubleSpinBox>(panel, "temperatureSpin")->setValue(0.7);
        child<QSpinBox>(panel, "topKSpin")->setValue(40);
        child<QDoubleSpinBox>(panel, "topPSpin")->setValue(0.9);
        type_seed(panel, QStringLiteral("18446744073709551615"));  // the largest uint64
        const SamplingParams s = panel.sampling();
        QCOMPARE(s.temperature, 0.7f);
        QCOMPARE(s.top_k, 40);
        QCOMPARE(s.top_p, 0.9f);
        QCOMPARE(s.seed, uint64_t{18446744073709551615ull});
        QCOMPARE(panel.refusal(), QString());
        QCOMPARE(spy.count(), 5);  // mode, temperature, top-k, top-p, seed

        choose_mode(panel, QStringLiteral("greedy"));
        QCOMPARE(panel.sampling().temperature, 0.0f);
        QCOMPARE(panel.sampling().top_k, 0);     // irrelevant to argmax: off
        QCOMPARE(panel.sampling().top_p, 1.0f);
        QVERIFY(!child<QWidget>(panel, "topPSpin")->isEnabled());
    }

    void invalidSamplingIsRefused() {
        GenerationPanel panel;
        choose_mode(panel, QStringLiteral("sample"));
        const SamplingParams before = panel.sampling();
        QSignalSpy spy(&panel, &GenerationPanel::settingsChanged);
        child<QDoubleSpinBox>(panel, "topPSpin")->setValue(0.0);
        QCOMPARE(spy.count(), 0);
        SamplingParams bad = before;
        bad.top_p = 0.0f;
        const QString reason = engine_reason(bad);
        QVERIFY(reason.contains(QStringLiteral("top-p")));
        QCOMPARE(panel.refusal(), reason);
        auto* label = child<QLabel>(panel, "refusalLabel");
        QVERIFY(label->isVisibleTo(&panel));
        QVERIFY(label->text().contains(reason));
        QCOMPARE(panel.sampling().top_p, before.top_p);  // the last valid sampling stays

        child<QDoubleSpinBox>(panel, "topPSpin")->setValue(0.5);
        QCOMPARE(panel.refusal(), QString());
        QVERIFY(!label->isVisibleTo(&panel));
        QCOMPARE(panel.sampling().top_p, 0.5f);
        QCOMPARE(spy.count(), 1);

        // A seed beyond uint64.
        type_seed(panel, QStringLiteral("18446744073709551616"));
        QVERIFY(panel.refusal().contains(QStringLiteral("seed")));
        QCOMPARE(spy.count(), 1);

        // The setter refuses too, with the engine's reason, and changes nothing.
        SamplingParams negative;
        negative.temperature = -1.0f;
        panel.setSampling(negative);
        QCOMPARE(panel.refusal(), engine_reason(negative));
        QCOMPARE(panel.sampling().top_p, 0.5f);
    }

    void setSamplingShowsWithoutEmitting() {
        GenerationPanel panel;
        QSignalSpy spy(&panel, &GenerationPanel::settingsChanged);
        SamplingParams p;
        p.temperature = 1.25f;
        p.top_k = 7;
        p.top_p = 0.8f;
        p.seed = 42;
        panel.setSampling(p);
        QCOMPARE(spy.count(), 0);
        QCOMPARE(panel.refusal(), QString());
        QCOMPARE(panel.sampling().temperature, 1.25f);
        QCOMPARE(panel.sampling().top_k, 7);
        QCOMPARE(panel.sampling().top_p, 0.8f);
        QCOMPARE(panel.sampling().seed, uint64_t{42});
        QCOMPARE(child<QComboBox>(panel, "samplingModeCombo")->currentText(), QStringLiteral("sample"));
        QCOMPARE(child<QLineEdit>(panel, "seedEdit")->text(), QStringLiteral("42"));
        panel.setSampling(SamplingParams{});  // temperature 0 = greedy
        QCOMPARE(child<QComboBox>(panel, "samplingModeCombo")->currentText(), QStringLiteral("greedy"));
        QCOMPARE(panel.sampling().temperature, 0.0f);
    }

    void contextLengthIsBoundedByTheModel() {
        GenerationPanel panel;
        panel.setMaxContext(8192);
        auto* spin = child<QSpinBox>(panel, "contextLengthSpin");
        QCOMPARE(spin->maximum(), 8192);
        QCOMPARE(panel.maxContext(), 8192);
        panel.setContextLength(4096);
        QCOMPARE(panel.contextLength(), 4096);
        QCOMPARE(panel.refusal(), QString());
        panel.setContextLength(9000);
        QVERIFY(panel.refusal().contains(QStringLiteral("between 1 and 8192")));
        QCOMPARE(panel.contextLength(), 4096);
        spin->setValue(100000);  // typed beyond: bounded by the spin box
        QCOMPARE(panel.contextLength(), 8192);
        // A model with a smaller training context lowers it, and says so.
        panel.setMaxContext(1024);
        QCOMPARE(panel.contextLength(), 1024);
        auto* note = child<QLabel>(panel, "contextNote");
        QVERIFY(note->isVisibleTo(&panel));
        QVERIFY(note->text().contains(QStringLiteral("8192")));
        QVERIFY(note->text().contains(QStringLiteral("1024")));
        panel.setMaxContext(0);
        QVERIFY(!panel.refusal().isEmpty());
        QCOMPARE(panel.maxContext(), 1024);
    }

    // A refusal in one group (sampling, context, max tokens) stays shown while
    // the other groups accept values; each clears only with its own group.
    void refusalsAreKeptPerGroup() {
        GenerationPanel panel;
        panel.setMaxContext(8192);
        choose_mode(panel, QStringLiteral("sample"));
        child<QDoubleSpinBox>(panel, "topPSpin")->setValue(0.0);  // refused: the spin box still shows 0
        const QString sampling_reason = panel.refusal();
        QVERIFY(sampling_reason.contains(QStringLiteral("top-p")));
        auto* label = child<QLabel>(panel, "refusalLabel");

        panel.setContextLength(1024);  // valid: must not hide the sampling refusal
        QCOMPARE(panel.contextLength(), 1024);
        QCOMPARE(panel.refusal(), sampling_reason);
        QVERIFY(label->isVisibleTo(&panel));
        QVERIFY(label->text().contains(sampling_reason));
        panel.setMaxNewTokens(32);
        QCOMPARE(panel.refusal(), sampling_reason);

        panel.setMaxNewTokens(0);  // both apply, the most recent first
        const QString max_reason = QStringLiteral("max new tokens must be between 1 and %1, got 0")
                                       .arg(GenerationPanel::kMaxNewTokensLimit);
        QCOMPARE(panel.refusal(), max_reason + QLatin1Char('\n') + sampling_reason);
        QVERIFY(label->text().contains(max_reason));
        QVERIFY(label->text().contains(sampling_reason));
        panel.setContextLength(9000);
        QCOMPARE(panel.refusal().split(QLatin1Char('\n')).size(), 3);
        QVERIFY(panel.refusal().startsWith(QStringLiteral("context length must be between 1 and 8192")));

        panel.setMaxNewTokens(64);  // clears its own group only
        QVERIFY(!panel.refusal().contains(QStringLiteral("max new tokens")));
        QVERIFY(panel.refusal().contains(sampling_reason));
        child<QSpinBox>(panel, "contextLengthSpin")->setValue(2048);  // a value picked in the control supersedes the request
        QCOMPARE(panel.refusal(), sampling_reason);
        child<QDoubleSpinBox>(panel, "topPSpin")->setValue(0.5);  // the sampling group valid again
        QCOMPARE(panel.refusal(), QString());
        QVERIFY(!label->isVisibleTo(&panel));
        QCOMPARE(panel.sampling().top_p, 0.5f);
    }

    // The note says the context was lowered for this model; a later model that
    // does not lower it hides it.
    void loweredNoteFollowsTheModel() {
        GenerationPanel panel;
        panel.setContextLength(4096);
        panel.setMaxContext(1024);
        auto* note = child<QLabel>(panel, "contextNote");
        QVERIFY(note->isVisibleTo(&panel));
        QCOMPARE(panel.contextLength(), 1024);
        panel.setMaxContext(8192);  // 1024 fits: nothing lowered
        QVERIFY(!note->isVisibleTo(&panel));
        QCOMPARE(panel.contextLength(), 1024);
        QCOMPARE(panel.maxContext(), 8192);
        panel.setMaxContext(512);
        QVERIFY(note->isVisibleTo(&panel));
        QVERIFY(note->text().contains(QStringLiteral("from 1024 to 512")));
        panel.setMaxContext(512);  // the same model again: 512 is not lowered
        QVERIFY(!note->isVisibleTo(&panel));
    }

    // Refusals and notes are plain text: markup in them shows as typed.
    void labelsArePlainText() {
        GenerationPanel panel;
        QCOMPARE(child<QLabel>(panel, "refusalLabel")->textFormat(), Qt::PlainText);
        QCOMPARE(child<QLabel>(panel, "contextNote")->textFormat(), Qt::PlainText);
    }

    void promptChatTemplateAndMaxNewTokens() {
        GenerationPanel panel;
        QSignalSpy spy(&panel, &GenerationPanel::settingsChanged);
        panel.setPrompt(QStringLiteral("The capital of France is"));
        panel.setChatTemplate(true);
        panel.setMaxNewTokens(64);
        QCOMPARE(spy.count(), 0);  // setters are quiet
        QCOMPARE(panel.prompt(), QStringLiteral("The capital of France is"));
        QVERIFY(panel.chatTemplate());
        QCOMPARE(panel.maxNewTokens(), 64);
        auto* editor = child<QPlainTextEdit>(panel, "promptEdit");
        QTest::keyClick(editor, Qt::Key_End, Qt::ControlModifier);
        QTest::keyClicks(editor, QStringLiteral("!"));
        QCOMPARE(spy.count(), 1);
        QCOMPARE(panel.prompt(), QStringLiteral("The capital of France is!"));
        QTest::mouseClick(child<QCheckBox>(panel, "chatTemplateCheck"), Qt::LeftButton);
        QVERIFY(!panel.chatTemplate());
        QCOMPARE(spy.count(), 2);
        panel.setMaxNewTokens(0);
        QVERIFY(panel.refusal().contains(QStringLiteral("max new tokens")));
        QCOMPARE(panel.maxNewTokens(), 64);
        for (const char* name : {"promptEdit", "chatTemplateCheck", "samplingModeCombo", "temperatureSpin", "topKSpin",
                                 "topPSpin", "seedEdit", "contextLengthSpin", "maxNewTokensSpin"})
            QVERIFY2(!child<QWidget>(panel, name)->toolTip().isEmpty(), name);
    }
};

QTEST_MAIN(ControlsGenerationTest)
#include "controls_generation_test.moc"
