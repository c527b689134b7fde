#include "plots/sweep_dialog.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "eval/perplexity.h"
#include "render/byte_format.h"
#include "plots/sweep_grid_editor.h"
#include "plots/sweep_worker.h"
#include "render/plots.h"
#include "util/error.h"

namespace kvscope::gui {

namespace {

enum Column { kPolicy, kWindow, kSinks, kKvType, kKvBytes, kPpl, kMeanKl, kTop1, kProgress, kNote, kColumns };
const char* const kHeaders[kColumns] = {"policy", "W", "S", "KV type", "KV bytes", "ppl", "mean KL", "top-1",
                                        "progress", "note"};
constexpr int kOverallSteps = 1000;  // the overall bar's resolution

QString dash() { return QStringLiteral("\u2014"); }

QString number_or_dash(double v, int decimals) { return std::isnan(v) ? dash() : QString::number(v, 'f', decimals); }

// The point's label on the scatter: the policy, and the KV type when the grid has several.
std::string point_label(const SweepRow& row, bool several_kv_types) {
    const std::string d = row.policy.describe();
    std::string label = d.substr(0, d.find(' '));
    if (several_kv_types) label += std::string(" ") + kv_value_type_name(row.policy.kv_type);
    return label;
}

std::vector<render::ScatterPoint> scatter_points(const std::vector<SweepRow>& rows) {
    bool several = false;
    for (const SweepRow& r : rows) several = several || r.policy.kv_type != rows.front().policy.kv_type;
    std::vector<render::ScatterPoint> points;
    for (const SweepRow& r : rows)
        if (r.ran()) points.push_back({point_label(r, several), static_cast<double>(r.kv_bytes), r.ppl});
    return points;
}

std::shared_ptr<const Model> require_model(std::shared_ptr<const Model> model) {
    if (model == nullptr) throw std::invalid_argument("SweepDialog: no model (nullptr)");
    return model;
}

// A warning whose text may hold a file name or an engine message: shown as
// plain text, never interpreted as HTML.
void warn(QWidget* parent, const QString& title, const QString& text) {
    QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Ok, parent);
    box.setTextFormat(Qt::PlainText);
    box.exec();
}

QTableWidgetItem* cell(const QString& text, bool number) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

}  // namespace

SweepDialog::SweepDialog(std::shared_ptr<const Model> model, std::vector<TokenId> tokens, SessionOptions base,
                         QWidget* parent)
    : QDialog(parent), model_(require_model(std::move(model))), tokens_(std::move(tokens)),
      text_source_(QStringLiteral("the current text")), base_(std::move(base)) {
    setWindowTitle(QStringLiteral("Perplexity sweep"));
    setObjectName(QStringLiteral("sweepDialog"));

    text_label_ = new QLabel(this);
    text_label_->setObjectName(QStringLiteral("textSource"));
    text_label_->setTextFormat(Qt::PlainText);  // holds a file name
    text_button_ = new QPushButton(QStringLiteral("Text file..."), this);
    text_button_->setObjectName(QStringLiteral("textFileButton"));
    text_button_->setToolTip(QStringLiteral("Score a UTF-8 text file instead of the current session's text"));
    auto* text_row = new QHBoxLayout;
    text_row->addWidget(new QLabel(QStringLiteral("Text:"), this));
    text_row->addWidget(text_label_, 1);
    text_row->addWidget(text_button_);

    editor_ = new SweepGridEditor(this);
    SweepGrid defaults;
    defaults.windows = {16, 32, 64};
    defaults.sinks = {0, 4};
    editor_->setGrid(defaults);

    error_label_ = new QLabel(this);
    error_label_->setObjectName(QStringLiteral("gridError"));
    error_label_->setWordWrap(true);
    error_label_->setTextFormat(Qt::PlainText);  // engine messages, which may quote the text's file name
    error_label_->setStyleSheet(QStringLiteral("color: #b00020;"));

    run_button_ = new QPushButton(QStringLiteral("Run"), this);
    run_button_->setObjectName(QStringLiteral("runButton"));
    run_button_->setToolTip(QStringLiteral("Run perplexity for every row of the grid, one after the other"));
    run_button_->setDefault(true);
    cancel_button_ = new QPushButton(QStringLiteral("Cancel sweep"), this);
    cancel_button_->setObjectName(QStringLiteral("cancelButton"));
    cancel_button_->setToolTip(QStringLiteral("Stop after the running row's current token; finished rows are kept"));
    csv_button_ = new QPushButton(QStringLiteral("Export CSV..."), this);
    csv_button_->setObjectName(QStringLiteral("csvButton"));
    csv_button_->setToolTip(QStringLiteral("Save the finished rows as CSV"));
    png_button_ = new QPushButton(QStringLiteral("Export plot..."), this);
    png_button_->setObjectName(QStringLiteral("pngButton"));
    png_button_->setToolTip(QStringLiteral("Save the KV bytes vs perplexity scatter as PNG (or PDF/SVG by extension)"));
    auto* close_box = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {run_button_, cancel_button_, csv_button_, png_button_}) buttons->addWidget(b);
    buttons->addStretch(1);
    buttons->addWidget(close_box);

    overall_ = new QProgressBar(this);
    overall_->setObjectName(QStringLiteral("overallProgress"));
    overall_->setRange(0, kOverallSteps);
    overall_->setValue(0);
    overall_->setToolTip(QStringLiteral("The whole sweep"));
    status_label_ = new QLabel(this);
    status_label_->setObjectName(QStringLiteral("sweepStatus"));
    status_label_->setTextFormat(Qt::PlainText);  // may hold the worker's error message
    auto* progress_row = new QHBoxLayout;
    progress_row->addWidget(overall_, 1);
    progress_row->addWidget(status_label_, 1);

    table_ = new QTableWidget(0, kColumns, this);
    table_->setObjectName(QStringLiteral("resultsTable"));
    QStringList headers;
    for (const char* h : kHeaders) headers << QString::fromLatin1(h);
    table_->setHorizontalHeaderLabels(headers);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    table_->setToolTip(QStringLiteral("One row per setting: peak K/V bytes held, perplexity and, with the reference "
                                      "run, mean KL and top-1 agreement against a full cache"));
    scatter_ = new QCustomPlot(this);
    scatter_->setObjectName(QStringLiteral("scatterPlot"));
    scatter_->setMinimumSize(320, 240);
    scatter_->setToolTip(QStringLiteral("KV bytes against perplexity, one point per finished row; the red line is the "
                                        "Pareto front (no other setting is both smaller and better)"));
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(table_);
    splitter->addWidget(scatter_);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(text_row);
    layout->addWidget(editor_);
    layout->addWidget(error_label_);
    layout->addLayout(progress_row);
    layout->addWidget(splitter, 1);
    layout->addLayout(buttons);
    resize(1100, 700);

    connect(editor_, &SweepGridEditor::changed, this, &SweepDialog::onGridChanged);
    connect(text_button_, &QPushButton::clicked, this, &SweepDialog::chooseTextFile);
    connect(run_button_, &QPushButton::clicked, this, &SweepDialog::start);
    connect(cancel_button_, &QPushButton::clicked, this, &SweepDialog::cancel);
    connect(csv_button_, &QPushButton::clicked, this, &SweepDialog::chooseCsvPath);
    connect(png_button_, &QPushButton::clicked, this, &SweepDialog::choosePngPath);
    connect(close_box, &QDialogButtonBox::rejected, this, &QDialog::reject);

    setTokens(tokens_);
    redrawScatter();
}

SweepDialog::~SweepDialog() { stopWorker(); }

void SweepDialog::setGrid(const SweepGrid& grid) { editor_->setGrid(grid); }

SweepGrid SweepDialog::grid() const { return editor_->grid(); }

bool SweepDialog::setThreads(int threads) { return editor_->setThreads(threads); }

int SweepDialog::threads() const { return editor_->threads(); }

void SweepDialog::setTokens(std::vector<TokenId> tokens) {
    tokens_ = std::move(tokens);
    text_label_->setText(QStringLiteral("%1 (%2 tokens)").arg(text_source_).arg(tokens_.size()));
    onGridChanged();
}

QString SweepDialog::loadTextFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
    const QByteArray bytes = file.readAll();
    if (file.error() != QFileDevice::NoError) return QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
    std::vector<TokenId> tokens;
    try {
        // As kvscope-cli ppl/sweep read a text file: a BOS, no special tokens parsed.
        tokens = model_->tokenizer().encode(std::string_view(bytes.constData(), static_cast<size_t>(bytes.size())),
                                           /*add_special=*/true, /*parse_special=*/false);
    } catch (const std::exception& e) {
        return QStringLiteral("cannot tokenize %1: %2").arg(path, QString::fromUtf8(e.what()));
    }
    text_source_ = QFileInfo(path).fileName();
    setTokens(std::move(tokens));
    return {};
}

QString SweepDialog::validationError() const {
    // Called from slots (every edit): nothing may escape, std::bad_alloc included.
    try {
        // The editor also refuses a grid of more than kMaxSweepRows rows
        // before anything below expands it.
        const QString grid_error = editor_->error();
        if (!grid_error.isEmpty()) return grid_error;
        const SweepGrid g = editor_->grid();
        (void)perplexity_session_options(model_->config(), base_, tokens_.size());
        // Every row must be a setting the text allows (e.g. W no longer than
        // the text), or the sweep would stop at that row.
        for (const SweepRow& row : sweep_plan(g)) {
            if (!row.ran()) continue;
            SessionOptions so = base_;
            so.policy = row.policy;
            so.reference_run = g.reference;
            try {
                // What the row's Session checks when it is made.
                const SessionOptions checked = perplexity_session_options(model_->config(), so, tokens_.size());
                checked.validate(model_->config());
                checked.policy.validate(checked.n_ctx, model_->config().n_layer, checked.n_ctx);
            } catch (const Error& e) {
                return QStringLiteral("%1 on this %2-token text: %3")
                    .arg(QString::fromStdString(row.policy.describe()))
                    .arg(tokens_.size())
                    .arg(QString::fromUtf8(e.what()));
            }
        }
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    } catch (const std::exception& e) {
        return QStringLiteral("cannot check the sweep: %1").arg(QString::fromUtf8(e.what()));
    }
    return {};
}

void SweepDialog::onGridChanged() {
    QString error = validationError();
    if (!running() && results_.empty() && error.isEmpty()) {
        // A preview of the rows to run (at most kMaxSweepRows: validated).
        // After a sweep the table keeps showing its rows (what the exports
        // write) until the next Run.
        try {
            showPlan(sweep_plan(editor_->grid()));
        } catch (const std::exception& e) {
            error = QStringLiteral("cannot list the sweep's rows: %1").arg(QString::fromUtf8(e.what()));
        }
    }
    error_label_->setText(error);
    error_label_->setVisible(!error.isEmpty());
    updateButtons();
}

void SweepDialog::showPlan(const std::vector<SweepRow>& plan) {
    table_->setRowCount(0);
    table_->setRowCount(static_cast<int>(plan.size()));
    for (int r = 0; r < static_cast<int>(plan.size()); ++r) {
        const SweepRow& row = plan[static_cast<size_t>(r)];
        const PolicyKind kind = row.policy.kind;
        table_->setItem(r, kPolicy, cell(QString::fromLatin1(policy_kind_name(kind)), false));
        table_->setItem(r, kWindow, cell(kind == PolicyKind::Full ? dash() : QString::number(sweep_size(row.policy)), true));
        table_->setItem(r, kSinks, cell(kind == PolicyKind::SinksWindow ? QString::number(row.policy.sinks) : dash(), true));
        table_->setItem(r, kKvType, cell(QString::fromLatin1(kv_value_type_name(row.policy.kv_type)), false));
        for (int c : {kKvBytes, kPpl, kMeanKl, kTop1}) table_->setItem(r, c, cell(QString(), true));
        table_->setItem(r, kNote, cell(QString::fromStdString(row.note), false));
        if (row.ran()) {
            auto* bar = new QProgressBar(table_);
            bar->setRange(0, 1);
            bar->setValue(0);
            bar->setTextVisible(true);
            bar->setToolTip(QStringLiteral("Tokens scored for this row"));
            table_->setCellWidget(r, kProgress, bar);
        } else {
            table_->setItem(r, kProgress, cell(QStringLiteral("skipped"), false));
        }
    }
}

void SweepDialog::start() {
    if (running() || !validationError().isEmpty()) return;
    // A slot (the Run button): a failure to start is shown, never thrown.
    try {
        const SweepGrid g = editor_->grid();
        plan_ = sweep_plan(g);
        results_.clear();
        rows_to_run_ =
            static_cast<int>(std::count_if(plan_.begin(), plan_.end(), [](const SweepRow& r) { return r.ran(); }));
        rows_run_ = 0;
        row_done_ = row_total_ = 0;
        showPlan(plan_);
        overall_->setValue(0);
        redrawScatter();

        // The worker shares model_: the model stays loaded until the worker
        // is destroyed (after its thread has finished), whatever the app
        // loads meanwhile.
        BackendOptions backend = backend_;
        backend.threads = editor_->threads();
        worker_ = std::make_unique<SweepWorker>(model_, tokens_, plan_, g.reference, base_, backend_factory(backend));
        // The worker object stays on this thread; its signals, emitted from the
        // worker thread, arrive here queued (in order, before onWorkerFinished).
        connect(worker_.get(), &SweepWorker::rowProgress, this, &SweepDialog::onRowProgress, Qt::QueuedConnection);
        connect(worker_.get(), &SweepWorker::rowFinished, this, &SweepDialog::onRowFinished, Qt::QueuedConnection);
        SweepWorker* worker = worker_.get();
        std::unique_ptr<QThread> thread(QThread::create([worker] { worker->run(); }));
        thread->setObjectName(QStringLiteral("kvscope-sweep"));
        connect(thread.get(), &QThread::finished, this, &SweepDialog::onWorkerFinished, Qt::QueuedConnection);
        clock_.start();
        status_ = QStringLiteral("running %1 rows over %2 tokens").arg(rows_to_run_).arg(tokens_.size());
        thread_ = thread.release();
        thread_->start();
    } catch (const std::exception& e) {
        worker_.reset();  // no thread was started
        status_ = QStringLiteral("cannot start the sweep: %1").arg(QString::fromUtf8(e.what()));
    }
    status_label_->setText(status_);
    updateButtons();
}

void SweepDialog::cancel() {
    if (!running()) return;
    worker_->requestCancel();
    status_ = QStringLiteral("cancelling...");
    status_label_->setText(status_);
    cancel_button_->setEnabled(false);
}

void SweepDialog::onRowProgress(int row, int done, int total) {
    if (!running()) return;
    row_done_ = done;
    row_total_ = total;
    if (auto* bar = qobject_cast<QProgressBar*>(table_->cellWidget(row, kProgress))) {
        bar->setRange(0, total);
        bar->setValue(done);
    }
    if (rows_to_run_ > 0 && total > 0) {
        const double fraction = (rows_run_ + static_cast<double>(done) / total) / rows_to_run_;
        overall_->setValue(static_cast<int>(std::lround(fraction * kOverallSteps)));
    }
}

void SweepDialog::onRowFinished(int row, const kvscope::SweepRow& result) {
    results_.push_back(result);
    if (!result.ran()) return;
    ++rows_run_;
    table_->item(row, kKvBytes)->setText(render::format_bytes(result.kv_bytes));
    table_->item(row, kPpl)->setText(number_or_dash(result.ppl, 3));
    table_->item(row, kMeanKl)->setText(number_or_dash(result.mean_kl, 4));
    table_->item(row, kTop1)->setText(std::isnan(result.top1) ? dash() : QStringLiteral("%1 %").arg(100.0 * result.top1, 0, 'f', 1));
    if (auto* bar = qobject_cast<QProgressBar*>(table_->cellWidget(row, kProgress))) bar->setValue(bar->maximum());
    overall_->setValue(static_cast<int>(std::lround(static_cast<double>(rows_run_) / rows_to_run_ * kOverallSteps)));
    redrawScatter();
}

void SweepDialog::onWorkerFinished() {
    if (thread_ == nullptr) return;  // already stopped (stopWorker)
    thread_->wait();
    delete thread_;
    thread_ = nullptr;
    const double seconds = static_cast<double>(clock_.elapsed()) / 1000.0;
    switch (worker_->outcome()) {
        case SweepWorker::Outcome::Done:
            status_ = QStringLiteral("done: %1 rows in %2 s").arg(rows_run_).arg(seconds, 0, 'f', 1);
            overall_->setValue(kOverallSteps);
            break;
        case SweepWorker::Outcome::Cancelled:
            status_ = QStringLiteral("cancelled after %1 of %2 rows").arg(rows_run_).arg(rows_to_run_);
            break;
        case SweepWorker::Outcome::Failed:
        case SweepWorker::Outcome::Running:
            status_ = QStringLiteral("failed: %1").arg(worker_->error());
            break;
    }
    worker_.reset();
    status_label_->setText(status_);
    updateButtons();
    emit sweepFinished();
}

void SweepDialog::stopWorker() {
    if (thread_ == nullptr) return;
    worker_->requestCancel();
    thread_->wait();  // at most the running row's current token
    // Rows the worker finished before it stopped are still queued to this
    // object: take them in before the sweep is closed.
    QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);
    onWorkerFinished();
}

QString SweepDialog::statusText() const { return status_; }

void SweepDialog::done(int result) {
    stopWorker();
    QDialog::done(result);
}

void SweepDialog::redrawScatter() {
    scatter_->clearPlottables();
    scatter_->clearItems();
    render::ScatterStyle style;
    style.label_points = true;
    render::setup_pareto_scatter(*scatter_, scatter_points(results_), std::string(), style);
    scatter_->replot(QCustomPlot::rpQueuedReplot);
}

QString SweepDialog::exportCsv(const QString& path) const {
    if (results_.empty()) return QStringLiteral("nothing to export: no sweep row has finished");
    try {
        write_sweep_csv(results_, path.toStdString());
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

QString SweepDialog::exportPng(const QString& path) const {
    const auto points = scatter_points(results_);
    if (points.empty()) return QStringLiteral("nothing to export: no sweep row has finished");
    try {
        render::render_pareto_scatter(points, path.toStdString(),
                                      "KV bytes vs perplexity (" + std::to_string(tokens_.size()) + " tokens)");
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

void SweepDialog::updateButtons() {
    const bool busy = running();
    run_button_->setEnabled(!busy && error_label_->text().isEmpty());
    cancel_button_->setEnabled(busy);
    text_button_->setEnabled(!busy);
    editor_->setEnabled(!busy);
    csv_button_->setEnabled(!results_.empty());
    png_button_->setEnabled(std::any_of(results_.begin(), results_.end(), [](const SweepRow& r) { return r.ran(); }));
}

void SweepDialog::chooseTextFile() {
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Text to score"), QString(),
                                                      QStringLiteral("Text (*.txt *.md);;All files (*)"));
    if (path.isEmpty()) return;
    const QString error = loadTextFile(path);
    if (!error.isEmpty()) warn(this, QStringLiteral("Text file"), error);
}

void SweepDialog::chooseCsvPath() {
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export sweep CSV"), QStringLiteral("sweep.csv"),
                                                      QStringLiteral("CSV (*.csv)"));
    if (path.isEmpty()) return;
    const QString error = exportCsv(path);
    if (!error.isEmpty()) warn(this, QStringLiteral("Export CSV"), error);
}

void SweepDialog::choosePngPath() {
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export sweep plot"), QStringLiteral("sweep.png"),
                                                      QStringLiteral("PNG (*.png);;PDF (*.pdf);;SVG (*.svg)"));
    if (path.isEmpty()) return;
    const QString error = exportPng(path);
    if (!error.isEmpty()) warn(this, QStringLiteral("Export plot"), error);
}

}  // namespace kvscope::gui
