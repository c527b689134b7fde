#include "app/app_tasks.h"

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QPixmap>
#include <QSaveFile>
#include <QScreen>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <functional>

#include "app/main_window.h"
#include "controls/generation_panel.h"
#include "controls/policy_dock.h"
#include "heatmap/heatmap_bench.h"
#include "heatmap/heatmap_view.h"

namespace kvscope::gui {

namespace {

// Runs the event loop until `done` holds or `timeout_ms` passes; false on timeout.
bool wait_until(const std::function<bool()>& done, int timeout_ms) {
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeout_ms) return false;
        QApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    return true;
}

// A window on the model with a StreamingLLM-style policy, `steps` tokens generated.
// size: the window's (the benchmark's fixed 1800 x 1100, or the default size
// a person sees on this screen for the screenshot).
bool prepare_window(MainWindow& w, const TaskOptions& o, QSize size, QString* error) {
    w.setErrorDialogsEnabled(false);
    w.setDecodeThreads(o.threads);
    w.resize(size);
    w.show();
    if (!o.prompt_file.isEmpty()) {
        QFile f(o.prompt_file);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = QString("cannot read %1: %2").arg(o.prompt_file, f.errorString());
            return false;
        }
        w.generationPanel()->setPrompt(QString::fromUtf8(f.readAll()));
    }
    PolicyConfig p;
    if (!o.full_cache) {
        p.kind = PolicyKind::SinksWindow;
        p.window = 32;
        p.sinks = 4;
    }
    w.policyPanel()->setPolicy(p);
    if (o.context > 0) {
        w.generationPanel()->setMaxContext(o.context);
        w.generationPanel()->setContextLength(o.context);
    }
    w.policyPanel()->setReferenceRun(o.reference);  // on: the quality plot and the divergence colours have data
    w.generationPanel()->setMaxNewTokens(std::max(o.steps, 1) + 16);
    w.openModel(o.model);
    SessionController& c = w.controller();
    if (!wait_until([&] { return !c.history().empty() && c.history().entries() >= 1; }, 120000)) {
        *error = w.lastError().isEmpty() ? QString("the model did not load within 2 minutes") : w.lastError();
        return false;
    }
    return true;
}

}  // namespace

int take_screenshot(const TaskOptions& o, const QString& path) {
    MainWindow w;
    QString error;
    const QScreen* screen = QGuiApplication::primaryScreen();
    const QSize size = screen ? MainWindow::defaultSize(screen->availableGeometry()) : QSize(1440, 900);
    if (!prepare_window(w, o, size, &error)) {
        std::fprintf(stderr, "kvscope: screenshot: %s\n", qPrintable(error));
        return 1;
    }
    SessionController& c = w.controller();
    bool stopped = false;  // the run ends at N tokens, or earlier at an end token
    QObject::connect(&c, &SessionController::runStopped, &w, [&stopped] { stopped = true; });
    c.step(o.steps);
    if (!wait_until([&] { return stopped && !c.busy(); }, 300000)) {
        std::fprintf(stderr, "kvscope: screenshot: generation did not finish (%s)\n", qPrintable(w.lastError()));
        return 1;
    }
    wait_until([] { return false; }, 300);  // let the frame timer draw the last step
    if (o.layer >= 0) {  // as a person picks it in the layer chooser
        auto* layers = w.findChild<QComboBox*>(QStringLiteral("layerBox"));
        if (layers == nullptr || o.layer >= layers->count()) {
            std::fprintf(stderr, "kvscope: screenshot: --layer %d is past the model's %d layers\n", o.layer,
                         layers == nullptr ? 0 : layers->count());
            return 2;
        }
        layers->setCurrentIndex(o.layer);
        wait_until([] { return false; }, 300);
    }
    wait_until([&] { return !c.history().matrixPending(); }, 60000);  // a big heatmap is built off the GUI thread
    wait_until([] { return false; }, 100);
    const QPixmap shot = w.grab();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !shot.save(&file, "PNG") || !file.commit()) {
        std::fprintf(stderr, "kvscope: screenshot: cannot write %s: %s\n", qPrintable(path), qPrintable(file.errorString()));
        return 1;
    }
    std::printf("%s\n", qPrintable(path));
    return 0;
}

int run_gui_bench(const TaskOptions& o) {
    std::printf("Heatmap redraw (rebuild + replot of a %s widget; median and p90 of repeated redraws)\n",
                "1000x800");
    std::printf("%8s %10s %10s %8s\n", "tokens", "median_ms", "p90_ms", "samples");
    for (const RedrawTiming& t : bench_heatmap_redraw({512, 2048, 4096}, 20))
        std::printf("%8d %10.2f %10.2f %8d\n", t.tokens, t.median_ms, t.p90_ms, t.samples);
    std::fflush(stdout);

    MainWindow w;
    QString error;
    if (!prepare_window(w, o, QSize(1800, 1100), &error)) {
        std::fprintf(stderr, "kvscope: bench: %s\n", qPrintable(error));
        return 1;
    }
    SessionController& c = w.controller();
    wait_until([] { return false; }, 500);
    const int frames_before = w.framesDrawn();
    const int32_t steps_before = c.history().steps();
    bool stopped = false;
    QObject::connect(&c, &SessionController::runStopped, &w, [&stopped] { stopped = true; });
    QElapsedTimer t;
    t.start();
    c.step(o.steps);
    if (!wait_until([&] { return stopped && !c.busy(); }, 600000)) {
        std::fprintf(stderr, "kvscope: bench: decoding did not finish (%s)\n", qPrintable(w.lastError()));
        return 1;
    }
    const double seconds = static_cast<double>(t.nsecsElapsed()) / 1e9;
    const int frames = w.framesDrawn() - frames_before;
    const int32_t tokens = c.history().steps() - steps_before;
    std::printf("\nWhile decoding %d tokens after a %zu-token prompt in the main window (1800x1100, all views live; %s, "
                "reference run %s, %d decoding threads):\n",
                tokens, c.history().header().prompt_tokens.size(), o.full_cache ? "full cache" : "sinks(4)+window(32)",
                o.reference ? "on" : "off", o.threads > 0 ? o.threads : std::max(1, QThread::idealThreadCount() - 1));
    std::printf("  %.1f tokens/s, %.1f frames/s (%d frames in %.2f s; frame timer capped at 30/s)\n",
                tokens / seconds, frames / seconds, frames, seconds);
    std::vector<double> times(w.frameTimesMs().end() - std::min<std::ptrdiff_t>(frames, static_cast<std::ptrdiff_t>(w.frameTimesMs().size())),
                              w.frameTimesMs().end());
    if (!times.empty()) {
        std::sort(times.begin(), times.end());
        std::printf("  redraw of every view per frame: median %.1f ms, p90 %.1f ms, max %.1f ms\n", times[times.size() / 2],
                    times[times.size() * 9 / 10], times.back());
    }
    return 0;
}

}  // namespace kvscope::gui
