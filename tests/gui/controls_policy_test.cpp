// PolicyPanel (gui/controls/policy_dock.h): the form builds PolicyConfigs, lets
// PolicyConfig::validate judge them, emits only valid ones and shows the
// engine's reason for refused ones.
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QtTest>

#include <climits>

#include "controls/dynamic_window_spec.h"
#include "controls/field_refusals.h"
#include "controls/policy_dock.h"
#include "session/session.h"
#include "util/error.h"

using kvscope::KvValueType;
using kvscope::PolicyConfig;
using kvscope::PolicyKind;
using kvscope::PositionMode;
using kvscope::gui::PolicyPanel;

namespace {

// What the engine says about a config ("" when it validates).
QString engine_reason(const PolicyConfig& p, int32_t n_ctx, int32_t n_layer, int32_t text_length) {
    try {
        p.validate(n_ctx, n_layer, text_length);
    } catch (const kvscope::InvalidSetting& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

template <typename T>
T* child(const PolicyPanel& panel, const char* name) {
    T* w = panel.findChild<T*>(QLatin1String(name));
    if (w == nullptr) qFatal("no child %s", name);
    return w;
}

void choose(PolicyPanel& panel, PolicyKind kind) {
    auto* combo = child<QComboBox>(panel, "policyKindCombo");
    combo->setCurrentIndex(combo->findData(static_cast<int>(kind)));
}

PolicyConfig emitted(const QSignalSpy& spy, qsizetype i) { return spy.at(i).at(0).value<PolicyConfig>(); }

// The refusal is shown in the red label (visible within the panel) and is exactly what refusal() says.
void expect_refusal_shown(const PolicyPanel& panel, const QString& reason) {
    QVERIFY(!reason.isEmpty());
    QVERIFY2(panel.refusal().contains(reason), qPrintable(panel.refusal() + " / expected: " + reason));
    const auto* label = child<QLabel>(panel, "refusalLabel");
    QVERIFY(label->isVisibleTo(&panel));
    QVERIFY(label->text().contains(reason));
}

}  // namespace

class ControlsPolicyTest : public QObject {
    Q_OBJECT
private slots:
    void sinksWindowSliderEmitsWindowAndSinks() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        choose(panel, PolicyKind::SinksWindow);
        QCOMPARE(spy.count(), 1);  // the switch itself (W 256, S 4 by default)
        QCOMPARE(emitted(spy, 0).kind, PolicyKind::SinksWindow);

        auto* slider = child<QSlider>(panel, "windowSlider");
        slider->setValue(64);
        QCOMPARE(spy.count(), 2);
        PolicyConfig p = emitted(spy, 1);
        QCOMPARE(p.kind, PolicyKind::SinksWindow);
        QCOMPARE(p.window, 64);
        QCOMPARE(p.sinks, 4);
        QVERIFY(p.pins.empty());
        QCOMPARE(p.h2o_heavy, 0);  // fields of other policies stay out of the config

        QTest::keyClick(slider, Qt::Key_Right);  // one step up, as a user would
        QCOMPARE(spy.count(), 3);
        QCOMPARE(emitted(spy, 2).window, 65);
        child<QSlider>(panel, "sinksSlider")->setValue(8);
        QCOMPARE(spy.count(), 4);
        QCOMPARE(emitted(spy, 3).sinks, 8);
        QCOMPARE(emitted(spy, 3).window, 65);
        QCOMPARE(panel.policy().window, 65);
        QCOMPARE(panel.refusal(), QString());
        QVERIFY(child<QLabel>(panel, "inForceLabel")->text().contains(QStringLiteral("sinks(8)+window(65)")));
    }

    void inForceLabelSaysHowTheModelsOwnWindowsMeetThePolicy() {
        // A gemma3-like model: 5 local layers with a 512-token window, 1 global.
        kvscope::ModelConfig config;
        config.n_layer = 6;
        config.native_window = 512;
        config.layer_is_local = {1, 1, 1, 1, 1, 0};
        PolicyPanel panel;
        panel.setLimits(2048, 6, 100);
        panel.setPolicyNote([config](const PolicyConfig& p) { return QString::fromStdString(kvscope::native_window_note(p, config)); });
        auto* label = child<QLabel>(panel, "inForceLabel");
        QVERIFY2(label->text().contains(QStringLiteral("5 local layers keep at most their own 512-token window")),
                 qPrintable(label->text()));
        choose(panel, PolicyKind::SinksWindow);
        child<QSlider>(panel, "windowSlider")->setValue(1024);  // wider than the model's window
        QVERIFY2(label->text().contains(QStringLiteral("holds in full on the 1 global layers only")), qPrintable(label->text()));
        child<QSlider>(panel, "windowSlider")->setValue(100);   // narrower: it rules every layer
        QVERIFY(!label->text().contains(QStringLiteral("global layers only")));
    }

    void sliderAndSpinStayInSync() {
        PolicyPanel panel;
        panel.setLimits(1024, 30, 10);
        choose(panel, PolicyKind::Window);
        auto* slider = child<QSlider>(panel, "windowSlider");
        auto* spin = child<QSpinBox>(panel, "windowSpin");
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        spin->setValue(100);
        QCOMPARE(slider->value(), 100);
        slider->setValue(50);
        QCOMPARE(spin->value(), 50);
        QCOMPARE(spy.count(), 2);  // one emission per change, not one per widget
        // Typing into the spin box: one change on Enter.
        spin->selectAll();
        QTest::keyClicks(spin, QStringLiteral("321"));
        QTest::keyClick(spin, Qt::Key_Return);
        QCOMPARE(spin->value(), 321);
        QCOMPARE(slider->value(), 321);
        QCOMPARE(spy.count(), 3);
        QCOMPARE(emitted(spy, 2).window, 321);
        // The sinks pair too.
        choose(panel, PolicyKind::SinksWindow);
        child<QSpinBox>(panel, "sinksSpin")->setValue(7);
        QCOMPARE(child<QSlider>(panel, "sinksSlider")->value(), 7);
        QCOMPARE(panel.policy().sinks, 7);
    }

    void sinksNotBelowWindowIsRefused() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::SinksWindow);
        child<QSpinBox>(panel, "windowSpin")->setValue(8);
        QCOMPARE(panel.policy().window, 8);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        child<QSpinBox>(panel, "sinksSpin")->setValue(8);
        QCOMPARE(spy.count(), 0);
        PolicyConfig bad;
        bad.kind = PolicyKind::SinksWindow;
        bad.window = 8;
        bad.sinks = 8;
        const QString reason = engine_reason(bad, 512, 30, 100);
        QVERIFY(reason.contains(QStringLiteral("sinks S")));
        expect_refusal_shown(panel, reason);
        QCOMPARE(panel.policy().sinks, 4);  // the last valid policy stays in force
        QCOMPARE(panel.policy().window, 8);
        // Fixing it clears the refusal and emits.
        child<QSpinBox>(panel, "windowSpin")->setValue(16);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(emitted(spy, 0).window, 16);
        QCOMPARE(emitted(spy, 0).sinks, 8);
        QCOMPARE(panel.refusal(), QString());
        QVERIFY(!child<QLabel>(panel, "refusalLabel")->isVisibleTo(&panel));
    }

    void h2oOverCapacityIsRefused() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        choose(panel, PolicyKind::H2O);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(emitted(spy, 0).h2o_heavy, 64);
        QCOMPARE(emitted(spy, 0).h2o_recent, 192);
        child<QSpinBox>(panel, "h2oHeavySpin")->setValue(400);  // 400 + 192 > 512
        QCOMPARE(spy.count(), 1);
        PolicyConfig bad;
        bad.kind = PolicyKind::H2O;
        bad.h2o_heavy = 400;
        bad.h2o_recent = 192;
        const QString reason = engine_reason(bad, 512, 30, 100);
        QVERIFY(reason.contains(QStringLiteral("h2o H + R")));
        expect_refusal_shown(panel, reason);
        QCOMPARE(panel.policy().h2o_heavy, 64);
        // R's spin cannot go below 1 (the engine's minimum).
        QCOMPARE(child<QSpinBox>(panel, "h2oRecentSpin")->minimum(), 1);
    }

    void pinOutsideTheTextIsRefused() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::Global);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        panel.togglePin(150);
        QCOMPARE(spy.count(), 0);
        PolicyConfig bad = panel.policy();
        bad.pins = {150};
        const QString reason = engine_reason(bad, 512, 30, 100);
        QVERIFY(reason.contains(QStringLiteral("pinned position")));
        expect_refusal_shown(panel, reason);
        QCOMPARE(child<QListWidget>(panel, "pinList")->count(), 0);  // the list shows the pins in force
        QVERIFY(panel.policy().pins.empty());
    }

    void badDynamicWindowTextIsRefused() {
        PolicyPanel panel;
        panel.setLimits(4096, 30, 100);
        choose(panel, PolicyKind::Window);
        auto* edit = child<QLineEdit>(panel, "dynamicWindowEdit");
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);

        // Syntax error: the parser's reason.
        QTest::keyClicks(edit, QStringLiteral("1024:full, abc"));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(spy.count(), 0);
        expect_refusal_shown(panel, QStringLiteral("'abc' is not a whole number"));
        QVERIFY(panel.policy().dynamic.empty());

        // Parses, but the engine refuses decreasing lengths: the engine's reason.
        edit->clear();
        QTest::keyClicks(edit, QStringLiteral("2048:1024, 512:full"));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(spy.count(), 0);
        PolicyConfig bad = panel.policy();
        bad.dynamic = {{2048, 1024}, {512, 0}};
        const QString reason = engine_reason(bad, 4096, 30, 100);
        QVERIFY(reason.contains(QStringLiteral("increasing lengths")));
        expect_refusal_shown(panel, reason);

        // A good one is applied.
        edit->clear();
        QTest::keyClicks(edit, QStringLiteral("1024:full, 2048:512, 1024"));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(spy.count(), 1);
        const PolicyConfig p = emitted(spy, 0);
        QCOMPARE(p.dynamic.size(), size_t{3});
        QCOMPARE(p.dynamic[0].below, 1024);
        QCOMPARE(p.dynamic[0].window, 0);
        QCOMPARE(p.dynamic[1].below, 2048);
        QCOMPARE(p.dynamic[1].window, 512);
        QCOMPARE(p.dynamic[2].below, INT32_MAX);
        QCOMPARE(p.dynamic[2].window, 1024);
        QCOMPARE(panel.refusal(), QString());
    }

    void dynamicWindowSpecRoundTrips() {
        using kvscope::gui::format_dynamic_window_spec;
        using kvscope::gui::parse_dynamic_window_spec;
        const auto parsed = parse_dynamic_window_spec(QStringLiteral(" 1024 : full ,8192:2048, 4096 "));
        QVERIFY2(parsed.ok(), qPrintable(parsed.error));
        QCOMPARE(format_dynamic_window_spec(parsed.steps), QStringLiteral("1024:full, 8192:2048, 4096"));
        QVERIFY(parse_dynamic_window_spec(QString()).ok());
        QVERIFY(parse_dynamic_window_spec(QString()).steps.empty());
        QVERIFY(!parse_dynamic_window_spec(QStringLiteral("4096, 8192:2048")).ok());  // WINDOW alone only last
        QVERIFY(!parse_dynamic_window_spec(QStringLiteral("1:2:3")).ok());
        QVERIFY(!parse_dynamic_window_spec(QStringLiteral("-5:10")).ok());
        QVERIFY(!parse_dynamic_window_spec(QStringLiteral("99999999999:10")).ok());  // beyond int32
    }

    void limitsBoundTheSpinBoxes() {
        PolicyPanel panel;
        panel.setLimits(300, 12, 40);
        QCOMPARE(child<QSpinBox>(panel, "windowSpin")->minimum(), 1);
        QCOMPARE(child<QSpinBox>(panel, "windowSpin")->maximum(), 300);
        QCOMPARE(child<QSlider>(panel, "windowSlider")->maximum(), 300);
        QCOMPARE(child<QSpinBox>(panel, "sinksSpin")->maximum(), 299);
        QCOMPARE(child<QSlider>(panel, "sinksSlider")->maximum(), 299);
        QCOMPARE(child<QSpinBox>(panel, "pinEverySpin")->maximum(), 300);
        QCOMPARE(child<QSpinBox>(panel, "h2oHeavySpin")->maximum(), 299);
        QCOMPARE(child<QSpinBox>(panel, "h2oRecentSpin")->maximum(), 300);
        QCOMPARE(child<QSpinBox>(panel, "fullEverySpin")->maximum(), 12);
        QCOMPARE(panel.contextLimit(), 300);
        // A value typed beyond the range is bounded by the spin box itself.
        auto* window = child<QSpinBox>(panel, "windowSpin");
        window->setValue(5000);
        QCOMPARE(window->value(), 300);
        // Nonsense limits are refused and change nothing.
        panel.setLimits(0, 12, 0);
        QVERIFY(panel.refusal().contains(QStringLiteral("invalid limits")));
        QCOMPARE(panel.contextLimit(), 300);
        QCOMPARE(window->maximum(), 300);
    }

    void togglePinAddsThenRemoves() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::Global);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        panel.togglePin(17);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(emitted(spy, 0).pins, (std::set<int32_t>{17}));
        QCOMPARE(child<QListWidget>(panel, "pinList")->count(), 1);
        panel.togglePin(3);
        QCOMPARE(emitted(spy, 1).pins, (std::set<int32_t>{3, 17}));
        QCOMPARE(child<QListWidget>(panel, "pinList")->item(0)->data(Qt::UserRole).toInt(), 3);  // ascending
        panel.togglePin(17);
        QCOMPARE(spy.count(), 3);
        QCOMPARE(emitted(spy, 2).pins, (std::set<int32_t>{3}));
        QCOMPARE(panel.policy().pins, (std::set<int32_t>{3}));

        // Remove selected.
        panel.togglePin(9);
        auto* list = child<QListWidget>(panel, "pinList");
        list->item(0)->setSelected(true);  // position 3
        auto* remove = child<QPushButton>(panel, "removePinsButton");
        QVERIFY(remove->isEnabled());
        QTest::mouseClick(remove, Qt::LeftButton);
        QCOMPARE(panel.policy().pins, (std::set<int32_t>{9}));
        QCOMPARE(emitted(spy, spy.count() - 1).pins, (std::set<int32_t>{9}));

        // Pin every k-th.
        child<QSpinBox>(panel, "pinEverySpin")->setValue(32);
        QCOMPARE(panel.policy().pin_every, 32);
        QCOMPARE(emitted(spy, spy.count() - 1).pin_every, 32);
    }

    void togglePinUnderAnotherPolicyIsRefused() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::SinksWindow);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        panel.togglePin(5);
        QCOMPARE(spy.count(), 0);
        PolicyConfig bad = panel.policy();
        bad.pins = {5};
        const QString reason = engine_reason(bad, 512, 30, 100);
        QVERIFY(reason.contains(QStringLiteral("global policy only")));
        expect_refusal_shown(panel, reason);
        QCOMPARE(panel.policy().kind, PolicyKind::SinksWindow);  // no silent switch
        QVERIFY(panel.policy().pins.empty());
    }

    void kvTypeAndPositionModeReachThePolicy() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        QVERIFY(child<QLabel>(panel, "replayNote")->text().contains(QStringLiteral("next Replay")));
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        auto* kv = child<QComboBox>(panel, "kvTypeCombo");
        kv->setCurrentIndex(kv->findData(static_cast<int>(KvValueType::Q8_0)));
        QCOMPARE(panel.policy().kv_type, KvValueType::Q8_0);
        auto* positions = child<QComboBox>(panel, "positionModeCombo");
        positions->setCurrentIndex(positions->findData(static_cast<int>(PositionMode::InCache)));
        QCOMPARE(panel.policy().positions, PositionMode::InCache);
        QCOMPARE(spy.count(), 2);
        QCOMPARE(emitted(spy, 1).kv_type, KvValueType::Q8_0);
        QCOMPARE(emitted(spy, 1).positions, PositionMode::InCache);
        QCOMPARE(panel.policy().kind, PolicyKind::Full);
    }

    void replayAndReferenceRunEmit() {
        PolicyPanel panel;
        QSignalSpy replay(&panel, &PolicyPanel::replayRequested);
        QSignalSpy reference(&panel, &PolicyPanel::referenceRunChanged);
        QTest::mouseClick(child<QPushButton>(panel, "replayButton"), Qt::LeftButton);
        QCOMPARE(replay.count(), 1);
        QTest::mouseClick(child<QCheckBox>(panel, "referenceRunCheck"), Qt::LeftButton);
        QCOMPARE(reference.count(), 1);
        QCOMPARE(reference.at(0).at(0).toBool(), true);
        QVERIFY(panel.referenceRun());
        panel.setReferenceRun(false);  // the setter shows without emitting
        QVERIFY(!panel.referenceRun());
        QCOMPARE(reference.count(), 1);
    }

    void controlsThatDoNotApplyAreDisabled() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        auto enabled = [&](const char* name) { return child<QWidget>(panel, name)->isEnabled(); };
        choose(panel, PolicyKind::Full);
        QVERIFY(!enabled("windowControl") && !enabled("sinksControl") && !enabled("pinList") && !enabled("h2oHeavySpin") &&
                !enabled("fullEverySpin") && !enabled("dynamicWindowEdit"));
        QVERIFY(enabled("kvTypeCombo") && enabled("positionModeCombo"));
        choose(panel, PolicyKind::Window);
        QVERIFY(enabled("windowControl") && !enabled("sinksControl") && enabled("dynamicWindowEdit") && enabled("fullEverySpin"));
        choose(panel, PolicyKind::SinksWindow);
        QVERIFY(enabled("windowControl") && enabled("sinksControl") && !enabled("pinEverySpin"));
        choose(panel, PolicyKind::Global);
        QVERIFY(enabled("windowControl") && enabled("sinksControl") && enabled("pinList") && enabled("pinEverySpin"));
        choose(panel, PolicyKind::H2O);
        QVERIFY(!enabled("windowControl") && enabled("h2oHeavySpin") && enabled("h2oRecentSpin") && !enabled("pinList"));
        QVERIFY(!enabled("budgetSpin"));
        choose(panel, PolicyKind::Tova);
        QVERIFY(enabled("budgetSpin") && !enabled("windowControl") && !enabled("h2oHeavySpin") && enabled("fullEverySpin"));
        // Disabled, not hidden.
        QVERIFY(!child<QWidget>(panel, "windowControl")->isHidden());
        // Every control explains itself.
        for (const char* name : {"policyKindCombo", "windowSlider", "windowSpin", "sinksSlider", "sinksSpin", "pinList",
                                 "pinEverySpin", "h2oHeavySpin", "h2oRecentSpin", "budgetSpin", "fullEverySpin", "dynamicWindowEdit",
                                 "kvTypeCombo", "positionModeCombo", "referenceRunCheck", "replayButton"})
            QVERIFY2(!child<QWidget>(panel, name)->toolTip().isEmpty(), name);
        QVERIFY(child<QWidget>(panel, "sinksSpin")->toolTip().contains(QStringLiteral("StreamingLLM")));
        QVERIFY(child<QWidget>(panel, "h2oHeavySpin")->toolTip().contains(QStringLiteral("H2O")));
        QVERIFY(child<QWidget>(panel, "budgetSpin")->toolTip().contains(QStringLiteral("TOVA")));
    }

    // SepLLM's pins: the global policy's "Pin separators" box, ticked with the
    // space bar, reaches the policy in force; it is off under other policies.
    void pinSeparatorsIsTickedWithTheKeyboard() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        auto* box = child<QCheckBox>(panel, "pinSeparatorsCheck");
        QVERIFY(!box->isEnabled());
        choose(panel, PolicyKind::Global);
        QVERIFY(box->isEnabled());
        QVERIFY(box->toolTip().contains(QStringLiteral("SepLLM")));
        box->setFocus();
        QTest::keyClick(box, Qt::Key_Space);
        QVERIFY(box->isChecked());
        QVERIFY(panel.policy().pin_separators);
        QCOMPARE(panel.policy().describe(), std::string("global(4 sinks, 0 pins, separators)+window(256) f16 original"));
        QTest::keyClick(box, Qt::Key_Space);
        QVERIFY(!panel.policy().pin_separators);
    }

    // A percent budget (from saved settings or the CLI's --budget P%) has no
    // control of its own: it stays through other edits and goes only when the
    // budget is typed.
    void aPercentBudgetSurvivesOtherEdits() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        PolicyConfig p;
        p.kind = PolicyKind::Tova;
        p.budget_percent = 30;
        panel.setPolicy(p);
        auto* kv = child<QComboBox>(panel, "kvTypeCombo");
        kv->setCurrentIndex(kv->findData(static_cast<int>(KvValueType::Q8_0)));
        QCOMPARE(panel.policy().kv_type, KvValueType::Q8_0);
        QCOMPARE(panel.policy().budget_percent, 30);
        QCOMPARE(panel.policy().describe(), std::string("tova(30%) q8_0 original"));
        auto* budget = child<QSpinBox>(panel, "budgetSpin");
        budget->setFocus();
        budget->selectAll();
        QTest::keyClicks(budget, QStringLiteral("48"));
        QTest::keyClick(budget, Qt::Key_Return);
        QCOMPARE(panel.policy().budget_percent, 0);
        QCOMPARE(panel.policy().budget, 48);
    }

    // A person picks tova from the policy list with the keyboard and types a
    // budget: the policy in force is tova with that budget, and a budget of 0
    // is refused with the reason, keeping the budget in force.
    void tovaIsChosenAndSizedWithTheKeyboard() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        auto* combo = child<QComboBox>(panel, "policyKindCombo");
        const int tova_row = combo->findText(QStringLiteral("tova"));  // the registry's labels, in its order
        QVERIFY(tova_row > 0);
        QCOMPARE(combo->currentIndex(), 0);
        combo->setFocus();
        for (int i = 0; i < tova_row; ++i) QTest::keyClick(combo, Qt::Key_Down);
        QCOMPARE(combo->currentText(), QStringLiteral("tova"));
        auto* budget = child<QSpinBox>(panel, "budgetSpin");
        budget->setFocus();
        budget->selectAll();
        QTest::keyClicks(budget, QStringLiteral("96"));
        QTest::keyClick(budget, Qt::Key_Return);
        QVERIFY(spy.count() >= 1);
        const PolicyConfig last = emitted(spy, spy.count() - 1);
        QCOMPARE(last.kind, PolicyKind::Tova);
        QCOMPARE(last.budget, 96);
        QCOMPARE(panel.policy().describe(), std::string("tova(96) f16 original"));
        QSignalSpy said(&panel, &PolicyPanel::refused);
        budget->selectAll();
        QTest::keyClicks(budget, QStringLiteral("0"));
        QTest::keyClick(budget, Qt::Key_Return);
        QCOMPARE(panel.policy().budget, 96);
        QCOMPARE(said.count(), 1);
        QVERIFY2(said.at(0).at(0).toString().contains(QStringLiteral("Budget B: 0 is outside 1 to 512; kept 96")),
                 qPrintable(said.at(0).at(0).toString()));
    }

    void layerPatternReachesThePolicy() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::Window);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        child<QSpinBox>(panel, "fullEverySpin")->setValue(3);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(emitted(spy, 0).full_every, 3);
        QVERIFY(emitted(spy, 0).layer_is_full(2));
        QVERIFY(!emitted(spy, 0).layer_is_full(0));
    }

    void setPolicyShowsWithoutEmitting() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        PolicyConfig p;
        p.kind = PolicyKind::Global;
        p.window = 32;
        p.pins = {1, 2, 40};
        p.pin_every = 8;
        p.full_every = 5;
        p.kv_type = KvValueType::F32;
        p.positions = PositionMode::InCache;
        panel.setPolicy(p);
        QCOMPARE(spy.count(), 0);
        QCOMPARE(panel.refusal(), QString());
        QCOMPARE(panel.policy().describe(), p.describe());
        QCOMPARE(panel.policy().pins, p.pins);
        QCOMPARE(child<QSpinBox>(panel, "windowSpin")->value(), 32);
        QCOMPARE(child<QSlider>(panel, "windowSlider")->value(), 32);
        QCOMPARE(child<QListWidget>(panel, "pinList")->count(), 3);
        QCOMPARE(child<QSpinBox>(panel, "pinEverySpin")->value(), 8);
        QCOMPARE(child<QSpinBox>(panel, "fullEverySpin")->value(), 5);
        QCOMPARE(child<QComboBox>(panel, "kvTypeCombo")->currentData().toInt(), static_cast<int>(KvValueType::F32));
        QVERIFY(child<QWidget>(panel, "pinList")->isEnabled());

        // An invalid one is refused; the shown one stays in force.
        PolicyConfig bad = p;
        bad.window = 1000;  // > n_ctx
        panel.setPolicy(bad);
        QVERIFY(panel.refusal().contains(engine_reason(bad, 512, 30, 100)));
        QCOMPARE(panel.policy().window, 32);
        QCOMPARE(spy.count(), 0);
    }

    // A dynamic window leaves W out of the controls' say: the shown policy is
    // the one in force, so an unchanged edit emits nothing, and limits that fit
    // again clear the refusal.
    void dynamicPolicyShownEqualsThePolicyInForce() {
        PolicyPanel panel;
        panel.setLimits(4096, 30, 100);
        PolicyConfig p;
        p.kind = PolicyKind::Window;
        p.window = 100;  // ignored by the engine under a dynamic window; the slider keeps 256
        p.dynamic = {{1024, 0}, {INT32_MAX, 512}};
        panel.setPolicy(p);
        QCOMPARE(panel.refusal(), QString());
        QCOMPARE(child<QSpinBox>(panel, "windowSpin")->value(), 256);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        auto* edit = child<QLineEdit>(panel, "dynamicWindowEdit");
        QCOMPARE(edit->text(), QStringLiteral("1024:full, 512"));
        QTest::keyClick(edit, Qt::Key_Return);  // editingFinished with the text unchanged
        QCOMPARE(spy.count(), 0);
        QVERIFY(panel.policy() == p);
        QCOMPARE(panel.refusal(), QString());

        // Too small a context for the 512 step: the policy in force no longer fits ...
        panel.setLimits(256, 30, 100);
        QVERIFY(panel.refusal().contains(engine_reason(p, 256, 30, 100)));
        // ... and fits again: the controls agree with it, so the refusal goes.
        panel.setLimits(4096, 30, 100);
        QCOMPARE(panel.refusal(), QString());
        QCOMPARE(spy.count(), 0);

        // Clearing the steps makes the slider's W count again.
        edit->clear();
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(spy.count(), 1);
        QVERIFY(emitted(spy, 0).dynamic.empty());
        QCOMPARE(emitted(spy, 0).window, 256);
    }

    // The refusal quotes the user's text; markup in it is shown as typed.
    void markupInARefusalShowsLiterally() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::Window);
        auto* edit = child<QLineEdit>(panel, "dynamicWindowEdit");
        QTest::keyClicks(edit, QStringLiteral("<b>x</b>"));
        QTest::keyClick(edit, Qt::Key_Return);
        QVERIFY(panel.refusal().contains(QStringLiteral("<b>x</b>")));
        auto* label = child<QLabel>(panel, "refusalLabel");
        QVERIFY(label->isVisibleTo(&panel));
        QVERIFY(label->text().contains(QStringLiteral("<b>x</b>")));
        QCOMPARE(label->textFormat(), Qt::PlainText);
        QCOMPARE(child<QLabel>(panel, "inForceLabel")->textFormat(), Qt::PlainText);
    }

    void shorterTextFlagsPinsInForce() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::Global);
        panel.togglePin(50);
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        panel.setLimits(512, 30, 10);  // a new, shorter text
        QCOMPARE(spy.count(), 0);
        QVERIFY(panel.refusal().contains(engine_reason(panel.policy(), 512, 30, 10)));
        QVERIFY(panel.refusal().contains(QStringLiteral("pinned position")));
        // Unpinning it makes the policy fit again.
        panel.togglePin(50);
        QCOMPARE(spy.count(), 1);
        QVERIFY(emitted(spy, 0).pins.empty());
        QCOMPARE(panel.refusal(), QString());
        // Growing the text again keeps everything valid and quiet.
        panel.setLimits(512, 30, 60);
        QCOMPARE(panel.refusal(), QString());
        QCOMPARE(spy.count(), 1);
    }

    // An unparseable Dynamic window stays refused (outlined) without blocking
    // W or S; a fix of that field clears its refusal; the reasons are emitted
    // for the status bar.
    void aRefusedFieldNeverBlocksTheOthers() {
        PolicyPanel panel;
        panel.setLimits(4096, 30, 100);
        choose(panel, PolicyKind::SinksWindow);
        QSignalSpy changed(&panel, &PolicyPanel::policyChanged);
        QSignalSpy said(&panel, &PolicyPanel::refused);
        auto* edit = child<QLineEdit>(panel, "dynamicWindowEdit");
        QTest::keyClicks(edit, QStringLiteral("abc:xyz"));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(said.count(), 1);
        QVERIFY(said.at(0).at(0).toString().contains(QStringLiteral("abc")));
        QVERIFY(panel.isRefused(PolicyPanel::Field::Dynamic));
        QVERIFY(kvscope::gui::FieldRefusals::isOutlined(edit));
        child<QSpinBox>(panel, "windowSpin")->setValue(300);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(emitted(changed, 0).window, 300);
        QVERIFY(emitted(changed, 0).dynamic.empty());
        child<QSpinBox>(panel, "sinksSpin")->setValue(8);
        QCOMPARE(changed.count(), 2);
        QCOMPARE(emitted(changed, 1).sinks, 8);
        QVERIFY(panel.isRefused(PolicyPanel::Field::Dynamic));  // still refused, still shown
        QVERIFY(panel.refusal().contains(QStringLiteral("abc")));
        // A second refusal stands beside the first: S >= W (and above every dynamic step below).
        child<QSpinBox>(panel, "sinksSpin")->setValue(600);
        QVERIFY(panel.isRefused(PolicyPanel::Field::Sinks));
        QVERIFY(kvscope::gui::FieldRefusals::isOutlined(child<QSpinBox>(panel, "sinksSpin")));
        QCOMPARE(panel.refusal().split('\n').size(), 2);
        // Fixing the text applies it and clears only its own refusal.
        edit->clear();
        QTest::keyClicks(edit, QStringLiteral("1024:full, 512"));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(changed.count(), 3);
        QCOMPARE(emitted(changed, 2).dynamic.size(), size_t{2});
        QCOMPARE(emitted(changed, 2).sinks, 8);
        QVERIFY(!panel.isRefused(PolicyPanel::Field::Dynamic));
        QVERIFY(!kvscope::gui::FieldRefusals::isOutlined(edit));
        QVERIFY(panel.isRefused(PolicyPanel::Field::Sinks));
    }

    // Typed text outside a spin box's range: the old value stays, and why is said.
    void anOutOfRangeTypedValueIsRefusedWithTheReason() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        choose(panel, PolicyKind::H2O);
        QSignalSpy said(&panel, &PolicyPanel::refused);
        auto* recent = child<QSpinBox>(panel, "h2oRecentSpin");
        recent->selectAll();
        QTest::keyClicks(recent, QStringLiteral("0"));
        QTest::keyClick(recent, Qt::Key_Return);
        QCOMPARE(recent->value(), 192);
        QCOMPARE(said.count(), 1);
        const QString reason = said.at(0).at(0).toString();
        QVERIFY2(reason.contains(QStringLiteral("Recent R: 0 is outside 1 to 512; kept 192")), qPrintable(reason));
        QVERIFY(kvscope::gui::FieldRefusals::isOutlined(recent));
        QVERIFY(recent->toolTip().startsWith(QStringLiteral("Refused: ")));
        // A good value clears it.
        recent->setValue(100);
        QVERIFY(!kvscope::gui::FieldRefusals::isOutlined(recent));
        QVERIFY(!recent->toolTip().startsWith(QStringLiteral("Refused: ")));
    }

    // The pinned list names each token by its text, not only its position.
    void pinnedTokensAreNamed() {
        PolicyPanel panel;
        panel.setLimits(512, 30, 100);
        panel.setTokenText([](int32_t p) { return p == 7 ? QStringLiteral("Paris") : QString(); });
        choose(panel, PolicyKind::Global);
        panel.togglePin(7);
        panel.togglePin(9);
        auto* list = child<QListWidget>(panel, "pinList");
        QCOMPARE(list->count(), 2);
        QCOMPARE(list->item(0)->text(), QStringLiteral("position 7 · Paris"));
        QCOMPARE(list->item(1)->text(), QStringLiteral("position 9"));
    }

    void draggingCoalescesEmissions() {
        PolicyPanel panel;
        panel.setLimits(4096, 30, 100);
        choose(panel, PolicyKind::Window);
        auto* slider = child<QSlider>(panel, "windowSlider");
        QSignalSpy spy(&panel, &PolicyPanel::policyChanged);
        slider->setSliderDown(true);
        for (int w = 100; w < 200; ++w) slider->setValue(w);
        QCOMPARE(spy.count(), 0);            // mid-drag: nothing yet, the timer is pending
        QCOMPARE(panel.policy().window, 199);  // but the policy in force follows
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 2000);  // one emission per interval
        QCOMPARE(emitted(spy, 0).window, 199);
        slider->setValue(250);
        slider->setValue(300);
        slider->setSliderDown(false);  // release: the last value goes out at once
        QCOMPARE(spy.count(), 2);
        QCOMPARE(emitted(spy, 1).window, 300);
        // No late duplicate from the drag timer. This asserts that something does
        // NOT happen, so it waits out two intervals (unless an emission arrives).
        QVERIFY(!QTest::qWaitFor([&] { return spy.count() > 2; }, PolicyPanel::kDragEmitIntervalMs * 2));
        QCOMPARE(spy.count(), 2);
    }
};

QTEST_MAIN(ControlsPolicyTest)
#include "controls_policy_test.moc"
