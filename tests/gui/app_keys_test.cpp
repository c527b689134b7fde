// The main window in a person's hands: keys typed into the focused field, as a
// keyboard delivers them (through the window, shortcuts matched first). Enter
// in a field applies that field and never starts a run; Space on a focused
// button or check box is that control's; the window-wide Step and Run keys
// work wherever no control needs them, and Ctrl+Enter / F5 / F10 from anywhere.
// Refusals are said at the field and in the status bar; one bad field never
// blocks the others; the status bar's figures are right.
#include <QtTest>

#include <QAbstractItemView>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>

#include "app_test_window.h"
#include "controls/field_refusals.h"
#include "gui_test_support.h"
#include "heatmap/heatmap_view.h"
#include "plots/plots_panel.h"

using namespace kvscope;
using namespace kvscope::gui;
using namespace kvscope::test;

class AppKeysTest : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<MainWindow> window_;
    QString model_path_;

    bool open(const PolicyConfig& policy) {
        window_ = open_app_window(model_path_, policy);
        return window_ && activate(*window_);
    }
    template <typename T>
    T* child(const char* name) const {
        T* w = window_->findChild<T*>(QLatin1String(name));
        if (w == nullptr) qFatal("no child %s", name);
        return w;
    }
    // A click in the field gives it the focus, as the mouse does.
    void clickInto(QWidget* field) {
        QTest::mouseClick(field, Qt::LeftButton, {}, QPoint(field->width() / 2, field->height() / 2));
        QTRY_COMPARE(QApplication::focusWidget(), field);
    }
    int steps() const { return window_->controller().history().steps(); }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        KVSCOPE_QTEST_REQUIRE_MODEL_PATH(path);
        model_path_ = QString::fromStdString(path);
    }
    void cleanup() { window_.reset(); }

    // Paused, click the Window W box, type 24, press Enter: W becomes 24 and no run starts.
    void enterInTheWindowBoxAppliesItAndDoesNotRun() {
        QVERIFY(open(sinks_window(16, 4)));
        QVERIFY(step_and_wait(*window_, 1));
        auto* spin = child<QSpinBox>("windowSpin");
        clickInto(spin);
        press(*window_, Qt::Key_A, Qt::ControlModifier);
        type(*window_, "24");
        QSignalSpy applied(&window_->controller(), &SessionController::policyApplied);
        press(*window_, Qt::Key_Return);
        QVERIFY2(!window_->controller().busy(), "Enter in a field must not start a run");
        QCOMPARE(spin->value(), 24);
        QCOMPARE(window_->policyPanel()->policy().window, 24);
        QTRY_VERIFY_WITH_TIMEOUT(applied.count() >= 1, 5000);  // the worker took it
        QCOMPARE(applied.last().at(0).value<PolicyConfig>().window, 24);
        QCOMPARE(steps(), 1);
        // The next step decodes at the new W.
        QVERIFY(step_and_wait(*window_, 1));
        SessionHistory& h = window_->controller().history();
        QCOMPARE(QString::fromStdString(h.light(h.entries() - 1).policy),
                 QString::fromStdString(sinks_window(24, 4).describe()));
    }

    // The Dynamic window field says "Press Enter to apply": Enter applies it.
    void enterInTheDynamicWindowFieldAppliesIt() {
        QVERIFY(open(sinks_window(16, 4)));
        auto* edit = child<QLineEdit>("dynamicWindowEdit");
        clickInto(edit);
        type(*window_, "64:full, 32");
        press(*window_, Qt::Key_Return);
        QVERIFY(!window_->controller().busy());
        const PolicyConfig p = window_->policyPanel()->policy();
        QCOMPARE(p.dynamic.size(), size_t{2});
        QCOMPARE(p.dynamic[1].window, 32);
    }

    // A policy chosen with Enter, in the open list or on the focused closed combo: no run.
    void enterOnThePolicyComboDoesNotRun() {
        QVERIFY(open(PolicyConfig{}));
        auto* combo = child<QComboBox>("policyKindCombo");
        // A click opens the list; Down and Enter choose the next entry.
        QTest::mouseClick(combo, Qt::LeftButton, {}, QPoint(combo->width() / 2, combo->height() / 2));
        QTRY_VERIFY(combo->view()->isVisible());
        press(*window_, Qt::Key_Down);
        press(*window_, Qt::Key_Return);
        QTRY_VERIFY(!combo->view()->isVisible());
        QVERIFY2(!window_->controller().busy(), "Enter in the list must not start a run");
        QCOMPARE(window_->policyPanel()->policy().kind, PolicyKind::Window);
        // The closed combo with the focus: Down changes the entry, Enter stays the combo's.
        QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget*>(combo));
        press(*window_, Qt::Key_Down);  // window -> sinks + window
        press(*window_, Qt::Key_Return);
        QVERIFY(!window_->controller().busy());
        QCOMPARE(window_->policyPanel()->policy().kind, PolicyKind::SinksWindow);
    }

    // Space on a focused check box ticks it; no step is taken.
    void spaceOnAFocusedCheckBoxIsTheCheckBoxs() {
        QVERIFY(open(PolicyConfig{}));
        auto* check = child<QCheckBox>("referenceRunCheck");
        check->setFocus(Qt::TabFocusReason);
        QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget*>(check));
        const bool before = check->isChecked();
        press(*window_, Qt::Key_Space);
        QCOMPARE(check->isChecked(), !before);
        QVERIFY(!window_->controller().busy());
        // No step comes of it. This asserts that something does NOT happen, so it
        // waits out its time (a step would have been asked for at once, and shows
        // within it); it returns early, failing, if a step or a run shows.
        QVERIFY(!QTest::qWaitFor([&] { return steps() > 0 || window_->controller().busy(); }, 300));
        QCOMPARE(steps(), 0);
    }

    // The first screen: the focus is not in the prompt, and what to press is said.
    // Space steps and Enter runs there; Ctrl+Enter runs from inside a field.
    void theFirstScreenSaysWhatToPressAndTheKeysDoIt() {
        QVERIFY(open(PolicyConfig{}));
        QVERIFY(window_->plots()->summaryText().contains(QStringLiteral("Step (Space)")));
        QVERIFY(window_->plots()->summaryText().contains(QStringLiteral("Run (Enter)")));
        QCOMPARE(QApplication::focusWidget(), static_cast<QWidget*>(window_->heatmap()));
        press(*window_, Qt::Key_Space);
        QTRY_COMPARE_WITH_TIMEOUT(steps(), 1, kStepTimeoutMs);
        QTRY_VERIFY(!window_->controller().busy());
        // In the prompt editor Space and Enter type; Ctrl+Enter runs.
        auto* prompt = child<QWidget>("promptEdit");
        clickInto(prompt);
        press(*window_, Qt::Key_Return);
        QVERIFY(!window_->controller().busy());
        press(*window_, Qt::Key_Return, Qt::ControlModifier);
        QTRY_VERIFY(window_->controller().busy());
        press(*window_, Qt::Key_F5);  // pause
        QTRY_VERIFY_WITH_TIMEOUT(!window_->controller().busy(), kStepTimeoutMs);
    }

    // Recent R = 0 (below its minimum): the field is outlined and the status bar says why.
    void anOutOfRangeValueSaysWhy() {
        PolicyConfig h2o;
        h2o.kind = PolicyKind::H2O;
        h2o.h2o_heavy = 16;
        h2o.h2o_recent = 32;
        QVERIFY(open(h2o));
        auto* recent = child<QSpinBox>("h2oRecentSpin");
        clickInto(recent);
        press(*window_, Qt::Key_A, Qt::ControlModifier);
        type(*window_, "0");
        press(*window_, Qt::Key_Return);
        QCOMPARE(recent->value(), 32);  // the old value stays ...
        const QString said = window_->statusBar()->currentMessage();
        QVERIFY2(said.contains(QStringLiteral("Recent R")) && said.contains(QStringLiteral("0 is outside 1 to")),
                 qPrintable(said));  // ... and the reason is said
        QVERIFY(FieldRefusals::isOutlined(recent));
        QVERIFY(recent->toolTip().contains(QStringLiteral("0 is outside")));
        QVERIFY(window_->policyPanel()->refusal().contains(QStringLiteral("Recent R")));
    }

    // An unparseable Dynamic window never blocks W: the field stays outlined, W applies.
    void oneBadFieldDoesNotBlockTheOthers() {
        QVERIFY(open(sinks_window(16, 4)));
        auto* edit = child<QLineEdit>("dynamicWindowEdit");
        clickInto(edit);
        type(*window_, "abc:xyz");
        press(*window_, Qt::Key_Return);
        QVERIFY(FieldRefusals::isOutlined(edit));
        QVERIFY(window_->statusBar()->currentMessage().contains(QStringLiteral("abc")));
        auto* spin = child<QSpinBox>("windowSpin");
        clickInto(spin);
        press(*window_, Qt::Key_A, Qt::ControlModifier);
        type(*window_, "40");
        press(*window_, Qt::Key_Return);
        QCOMPARE(window_->policyPanel()->policy().window, 40);  // applied despite the bad field
        QVERIFY(FieldRefusals::isOutlined(edit));               // which stays refused
        QVERIFY(!FieldRefusals::isOutlined(spin));
        // The "In force" line is at the top of the panel, above the first control.
        auto* in_force = child<QWidget>("inForceLabel");
        auto* combo = child<QWidget>("policyKindCombo");
        QVERIFY(in_force->mapTo(window_.get(), QPoint(0, 0)).y() < combo->mapTo(window_.get(), QPoint(0, 0)).y());
        // Fixing the field clears its outline.
        clickInto(edit);
        press(*window_, Qt::Key_A, Qt::ControlModifier);
        press(*window_, Qt::Key_Delete);
        press(*window_, Qt::Key_Return);
        QVERIFY(!FieldRefusals::isOutlined(edit));
        QCOMPARE(window_->policyPanel()->refusal(), QString());
    }

    // Tokens per second is steps over the time they took (not 1 / the gap of a burst).
    void theStatusBarRateIsStepsOverTime() {
        QVERIFY(open(sinks_window(16, 4)));
        auto* rate = window_->statusBar()->findChild<QLabel*>(QStringLiteral("tokenRate"));
        QVERIFY(rate != nullptr);
        SessionController& c = window_->controller();
        const int first = steps();
        QElapsedTimer clock;
        clock.start();
        c.run();
        double shown = -1;
        QVERIFY(QTest::qWaitFor([&] {
            const QString t = rate->text();
            if (t.endsWith(QStringLiteral(" tok/s")) && !t.startsWith(QChar(0x2026))) shown = t.split(' ').front().toDouble();
            return shown > 0 && steps() - first >= 12;
        }, kStepTimeoutMs));
        const double measured = (steps() - first) * 1000.0 / static_cast<double>(clock.elapsed());
        c.pause();
        QTRY_VERIFY_WITH_TIMEOUT(!c.busy(), kStepTimeoutMs);
        qInfo("status bar %.1f tok/s, measured here %.1f tok/s", shown, measured);
        // Steps over elapsed time, so within a factor of two of this measurement
        // (the run's first steps include its start); a burst-gap rate would be hundreds of times off.
        QVERIFY2(shown < 2.0 * measured + 5 && shown > 0.5 * measured,
                 qPrintable(QString("%1 tok/s shown, %2 measured").arg(shown).arg(measured)));
    }

    // A model that fails to open leaves the status bar naming the model still in use.
    void aFailedOpenKeepsTheModelInUseInTheStatusBar() {
        QVERIFY(open(PolicyConfig{}));
        auto* model_label = window_->statusBar()->findChild<QLabel*>(QStringLiteral("modelStatus"));
        QVERIFY(model_label != nullptr);
        const QString before = model_label->text();
        QVERIFY(before.contains(QStringLiteral("loaded")));
        window_->openModel(QStringLiteral(KVSCOPE_TEST_DATA_DIR "/../../README.md"));
        QVERIFY(QTest::qWaitFor([&] { return !window_->controller().loading() && !window_->lastError().isEmpty(); }, 20000));
        QCOMPARE(model_label->text(), before);
    }
};

QTEST_MAIN(AppKeysTest)
#include "app_keys_test.moc"
