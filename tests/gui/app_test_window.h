#pragma once
// The main window on the real model for the app's Qt Test suites: opened the
// way the app opens (its own default size unless a test sets one), the prompt
// run, then stepped and waited for through the controller or through keys.
#include <QtTest>

#include <QAction>
#include <QApplication>
#include <QStatusBar>

#include <memory>

#include "app/main_window.h"
#include "controls/generation_panel.h"
#include "controls/policy_dock.h"

namespace kvscope::test {

inline constexpr int kLoadTimeoutMs = 60000;
inline constexpr int kStepTimeoutMs = 60000;

inline PolicyConfig sinks_window(int32_t window, int32_t sinks) {
    PolicyConfig p;
    p.kind = PolicyKind::SinksWindow;
    p.window = window;
    p.sinks = sinks;
    return p;
}

// A shown window on `model_path` with `policy`, the prompt run (entry 0);
// nullptr when the model did not load in time. `size` empty: the app's own
// default size for the screen.
inline std::unique_ptr<gui::MainWindow> open_app_window(const QString& model_path, const PolicyConfig& policy,
                                                       bool reference = false,
                                                       const QString& prompt = "The capital of France is",
                                                       QSize size = QSize(1400, 900)) {
    auto w = std::make_unique<gui::MainWindow>();
    w->setErrorDialogsEnabled(false);
    w->setDecodeThreads(1);
    if (!size.isEmpty()) w->resize(size);
    w->show();
    w->generationPanel()->setPrompt(prompt);
    w->generationPanel()->setChatTemplate(false);
    w->generationPanel()->setMaxNewTokens(64);
    w->policyPanel()->setPolicy(policy);
    w->policyPanel()->setReferenceRun(reference);
    w->openModel(model_path);
    gui::SessionController& c = w->controller();
    if (!QTest::qWaitFor([&] { return !c.history().empty() && c.history().entries() >= 1; }, kLoadTimeoutMs))
        return nullptr;
    return w;
}

// N steps through the controller (fewer if the model ends the text first); waits for the run to stop.
inline bool step_and_wait(gui::MainWindow& w, int n) {
    gui::SessionController& c = w.controller();
    QSignalSpy stopped(&c, &gui::SessionController::runStopped);
    c.step(n);
    return QTest::qWaitFor([&] { return stopped.count() > 0 && !c.busy(); }, kStepTimeoutMs);
}

// Saves the session through the window (a thread of its own) and waits until
// it is written: "" or the error.
inline QString save_session(gui::MainWindow& w, const QString& path, int timeout_ms = 60000) {
    QSignalSpy finished(&w, &gui::MainWindow::saveFinished);
    const QString refused = w.saveSession(path);
    if (!refused.isEmpty()) return refused;
    if (!finished.wait(timeout_ms)) return QStringLiteral("the save did not end within %1 ms").arg(timeout_ms);
    return finished.at(0).at(0).toString();
}

// Waits until the frame timer has drawn the newest entry.
inline bool settle(gui::MainWindow& w) {
    return QTest::qWaitFor([&] { return w.shownEntry() == w.controller().history().entries() - 1; }, 5000);
}

// Makes the window the active one, as a click on it would, so that keys sent
// to it reach its focus widget and its shortcuts.
inline bool activate(gui::MainWindow& w) {
    w.raise();
    w.activateWindow();
    QApplication::setActiveWindow(&w);
    return QTest::qWaitForWindowActive(&w);
}

// The window a person's keyboard types into: the focused one (an open combo
// list's popup, say), else the main window.
inline QWindow* keyboard_window(gui::MainWindow& w) {
    QWindow* focus = QGuiApplication::focusWindow();
    return focus != nullptr ? focus : w.windowHandle();
}

// A key pressed and released through the window system, as a person's
// keyboard delivers it: to the focus widget, shortcuts matched first.
inline void press(gui::MainWindow& w, Qt::Key key, Qt::KeyboardModifiers mods = Qt::NoModifier) {
    QTest::keyClick(keyboard_window(w), key, mods);
}

// Text typed through the window system, key by key.
inline void type(gui::MainWindow& w, const QString& text) {
    for (const QChar c : text) QTest::keyClick(keyboard_window(w), c.toLatin1());
}

}  // namespace kvscope::test
