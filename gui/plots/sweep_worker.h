// Runs a sweep's rows one at a time on a worker thread, reporting each row as
// it finishes (run_sweep itself only returns at the end). Each row is what
// run_sweep computes: perplexity() with the row's policy and the grid's
// reference flag over the base options.
#pragma once

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <vector>

#include "eval/sweep.h"
#include "model/model.h"
#include "session/session.h"

namespace kvscope::gui {

class SweepWorker : public QObject {
    Q_OBJECT
public:
    enum class Outcome { Running, Done, Cancelled, Failed };

    // `plan`: sweep_plan(grid). The worker shares `model` (kept alive until
    // the worker is destroyed, after run() has returned); nullptr throws
    // std::invalid_argument. The rest is copied.
    SweepWorker(std::shared_ptr<const Model> model, std::vector<TokenId> tokens, std::vector<SweepRow> plan,
                bool reference, SessionOptions base, BackendFactory backend);

    // The whole sweep, on the calling thread (the worker thread): emits
    // rowProgress and rowFinished, in plan order, then returns. Skipped rows
    // (with a note) are reported finished as they are reached.
    void run();
    // Thread-safe: the running row stops at its next token.
    void requestCancel() { cancel_.store(true); }

    // Read after run() has returned.
    Outcome outcome() const { return outcome_; }
    QString error() const { return error_; }

signals:
    void rowProgress(int row, int done, int total);
    void rowFinished(int row, const kvscope::SweepRow& result);

private:
    const std::shared_ptr<const Model> model_;  // never null
    const std::vector<TokenId> tokens_;  // [n_tokens] the text scored
    const std::vector<SweepRow> plan_;   // [n_rows]
    const bool reference_;
    const SessionOptions base_;
    const BackendFactory backend_;
    std::atomic<bool> cancel_{false};
    Outcome outcome_ = Outcome::Running;
    QString error_;
};

}  // namespace kvscope::gui

Q_DECLARE_METATYPE(kvscope::SweepRow)
