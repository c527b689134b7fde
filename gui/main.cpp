// kvscope: the desktop app.
//   kvscope [MODEL.gguf | SESSION.json]   open a model (default: the cached SmolLM2) or a saved session
//   kvscope --screenshot OUT.png [--steps N] [--prompt-file F] [MODEL]
//   kvscope --bench [--steps N] [MODEL]
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QSettings>
#include <QTimer>

#include "app/app_tasks.h"
#include "app/main_window.h"
#include "app/model_fetcher.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName("KVScope");
    QApplication::setApplicationName("KVScope");
    QApplication::setApplicationVersion(KVSCOPE_VERSION);
    QApplication::setDesktopFileName("kvscope");

    QCommandLineParser parser;
    parser.setApplicationDescription("Step an LLM decoder token by token and watch its KV cache, attention and memory.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument("file", "A GGUF model or a saved session (.json).", "[file]");
    QCommandLineOption screenshot("screenshot", "Save the main window mid-generation as PNG and exit.", "png");
    QCommandLineOption bench("bench", "Measure heatmap redraw times and the frame rate while decoding, then exit.");
    QCommandLineOption steps("steps", "Tokens to generate for --screenshot / --bench (default 48).", "n", "48");
    QCommandLineOption prompt_file("prompt-file", "Prompt text for --screenshot / --bench.", "file");
    QCommandLineOption threads("threads", "Decoding threads (default 0: all cores but one, left to the GUI).", "n", "0");
    QCommandLineOption no_reference("no-reference", "--screenshot / --bench without the full-cache reference run.");
    QCommandLineOption full_cache("full-cache", "--screenshot / --bench with the full policy (default sinks(4)+window(32)).");
    QCommandLineOption context("ctx", "Context length for --screenshot / --bench.", "n", "0");
    QCommandLineOption layer("layer", "The layer the heatmap shows in --screenshot (default: the window's).", "n", "-1");
    parser.addOptions({screenshot, bench, steps, prompt_file, threads, no_reference, full_cache, context, layer});
    parser.process(app);

    bool threads_ok = false;
    const int n_threads = parser.value(threads).toInt(&threads_ok);
    if (!threads_ok || n_threads < 0 || n_threads > 256) {
        std::fprintf(stderr, "kvscope: --threads must be between 0 (all cores but one) and 256, got '%s'\n",
                     qPrintable(parser.value(threads)));
        return 2;
    }
    const QStringList files = parser.positionalArguments();
    const QString file = files.isEmpty() ? QString() : files.front();
    if (parser.isSet(screenshot) || parser.isSet(bench)) {
        // Batch tasks keep their own settings, so they neither read nor change the user's.
        QApplication::setApplicationName("KVScope batch tasks");
        QSettings().clear();  // and start from the defaults every time (reproducible screenshots)
        kvscope::gui::TaskOptions o;
        o.threads = n_threads;
        o.model = file.isEmpty() ? kvscope::gui::defaultModelPath() : file;
        o.prompt_file = parser.value(prompt_file);
        bool ok = false;
        o.steps = parser.value(steps).toInt(&ok);
        if (!ok || o.steps < 1) {
            std::fprintf(stderr, "kvscope: --steps must be a positive integer, got '%s'\n", qPrintable(parser.value(steps)));
            return 2;
        }
        o.reference = !parser.isSet(no_reference);
        o.full_cache = parser.isSet(full_cache);
        o.context = parser.value(context).toInt(&ok);
        if (!ok || o.context < 0) {
            std::fprintf(stderr, "kvscope: --ctx must be a non-negative integer, got '%s'\n", qPrintable(parser.value(context)));
            return 2;
        }
        o.layer = parser.value(layer).toInt(&ok);
        if (!ok || o.layer < -1) {
            std::fprintf(stderr, "kvscope: --layer must be a layer index, got '%s'\n", qPrintable(parser.value(layer)));
            return 2;
        }
        if (!QFileInfo(o.model).isFile()) {
            std::fprintf(stderr, "kvscope: model %s not found (scripts/fetch-model gets the default one)\n",
                         qPrintable(o.model));
            return 1;
        }
        return parser.isSet(bench) ? kvscope::gui::run_gui_bench(o)
                                   : kvscope::gui::take_screenshot(o, parser.value(screenshot));
    }

    kvscope::gui::MainWindow window;
    window.setDecodeThreads(n_threads);
    window.show();
    // After the event loop starts, so dialogs have a visible parent.
    QTimer::singleShot(0, &window, [&window, file] {
        if (file.endsWith(".json", Qt::CaseInsensitive))
            window.openSession(file);
        else if (!file.isEmpty())
            window.openModel(file);
        else
            window.openDefaultModel();
    });
    return app.exec();
}
