// The sweep dialog (DESIGN.md §3 "Sweep"): perplexity of a text over a grid
// of policies × windows × sinks × KV types, run row by row on a worker
// thread, with a progress bar per row and overall, cancel, a results table,
// a KV bytes vs perplexity scatter with its Pareto front, and CSV/PNG export.
#pragma once

#include <QDialog>
#include <QElapsedTimer>

#include <memory>
#include <vector>

#include "backends/backend_factory.h"
#include "eval/sweep.h"
#include "model/model.h"
#include "session/session.h"

class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QThread;

namespace kvscope::gui {

class SweepGridEditor;
class SweepWorker;

class SweepDialog : public QDialog {
    Q_OBJECT
public:
    // model: the loaded model, shared: the dialog (and a sweep still running
    // on its worker thread) keeps it alive after the app has loaded another
    // one or is shutting down; nullptr throws std::invalid_argument. tokens:
    // the text to score (the current session's, or a file picked with "Text
    // file..."); base: the rest of the session options.
    SweepDialog(std::shared_ptr<const Model> model, std::vector<TokenId> tokens, SessionOptions base,
                QWidget* parent = nullptr);
    ~SweepDialog() override;

    void setGrid(const SweepGrid& grid);
    SweepGrid grid() const;
    bool setThreads(int threads);  // false outside 1 .. the machine's thread count
    int threads() const;
    // The backend the sweep's sessions run on (the app's choice; the CPU
    // threads come from the dialog's own field). Default: auto.
    void setBackend(const BackendOptions& backend) { backend_ = backend; }

    // Reads a UTF-8 text file and scores its tokens from now on (what the
    // "Text file..." button does); "" or the error (the text is then unchanged).
    QString loadTextFile(const QString& path);
    void setTokens(std::vector<TokenId> tokens);
    size_t tokenCount() const { return tokens_.size(); }

    // "" when Run may start; otherwise why not (the grid, a grid of more than
    // kMaxSweepRows rows, the text, or a row the text is too short for), as
    // shown under the grid. Never throws.
    QString validationError() const;

    // Runs the sweep on a worker thread; does nothing while running or while
    // validationError() is not empty (a failure to start shows in statusText()).
    void start();
    // The running row stops at its next token; finished rows are kept.
    void cancel();
    bool running() const { return thread_ != nullptr; }
    // The finished rows, in sweep_plan order (after a whole sweep: every row
    // of sweep_plan(grid()), as run_sweep returns them).
    const std::vector<SweepRow>& results() const { return results_; }
    QString statusText() const;

    QString exportCsv(const QString& path) const;  // kvscope::write_sweep_csv; "" or the error
    QString exportPng(const QString& path) const;  // the scatter (PNG, or PDF/SVG by extension); atomic

    void done(int result) override;  // closing while running cancels and waits for the worker

signals:
    // The sweep is done, cancelled or failed. (Not `finished`: that would
    // hide QDialog::finished(int), the dialog's own close signal.)
    void sweepFinished();

private:
    void onGridChanged();
    void showPlan(const std::vector<SweepRow>& plan);
    void onRowProgress(int row, int done, int total);
    void onRowFinished(int row, const kvscope::SweepRow& result);
    void onWorkerFinished();
    void stopWorker();  // cancel and wait (destructor, close)
    void redrawScatter();
    void chooseTextFile();
    void chooseCsvPath();
    void choosePngPath();
    void updateButtons();

    std::shared_ptr<const Model> model_;  // never null; shared with the running SweepWorker
    std::vector<TokenId> tokens_;   // [n_tokens] the text scored
    QString text_source_;           // shown: where tokens_ came from
    SessionOptions base_;
    BackendOptions backend_;
    std::vector<SweepRow> plan_;     // [n_rows] the rows of the running (or last) sweep
    std::vector<SweepRow> results_;  // [finished rows] a prefix of plan_, with the numbers
    int rows_to_run_ = 0;            // rows of plan_ that run (no note)
    int rows_run_ = 0;               // of those, finished
    int32_t row_done_ = 0, row_total_ = 0;  // the running row's progress (scored tokens)

    QThread* thread_ = nullptr;               // non-null while a sweep runs
    std::unique_ptr<SweepWorker> worker_;     // lives until the thread has finished
    QElapsedTimer clock_;
    QString status_;

    SweepGridEditor* editor_ = nullptr;
    QLabel* text_label_ = nullptr;
    QLabel* error_label_ = nullptr;
    QLabel* status_label_ = nullptr;
    QPushButton* text_button_ = nullptr;
    QPushButton* run_button_ = nullptr;
    QPushButton* cancel_button_ = nullptr;
    QPushButton* csv_button_ = nullptr;
    QPushButton* png_button_ = nullptr;
    QProgressBar* overall_ = nullptr;
    QTableWidget* table_ = nullptr;
    QCustomPlot* scatter_ = nullptr;
};

}  // namespace kvscope::gui
