#pragma once
// The app's single point of contact with the engine: it owns the worker thread
// and the GUI-side history, turns user actions into queued calls on the worker
// and worker results into history updates. Widgets never touch the engine;
// they talk to this controller and read the history.
#include <QObject>
#include <QThread>

#include <memory>

#include "core/decode_worker.h"
#include "core/session_history.h"
#include "core/token_rate.h"

namespace kvscope::gui {

class SessionController : public QObject {
    Q_OBJECT
public:
    explicit SessionController(QObject* parent = nullptr);
    ~SessionController() override;  // stops the worker thread (waits for the current step)

    SessionHistory& history() { return history_; }
    const SessionHistory& history() const { return history_; }
    const std::shared_ptr<const Model>& model() const { return model_; }
    const QString& modelPath() const { return model_path_; }
    bool busy() const { return busy_; }       // a Run is going on
    bool loading() const { return loading_; }
    bool hasRun() const { return has_run_; }  // a live session exists on the worker (Step can go on)
    const RunSettings& lastSettings() const { return last_settings_; }
    // Tokens per second of the run going on (steps over the time they took), or
    // negative when there is not enough of it yet to say.
    double tokensPerSecond() const { return rate_.perSecond(); }

    void loadModel(const QString& path);
    // Reset: a new session on `settings` (prompt, options, limits); prefill runs at once.
    void reset(const RunSettings& settings);
    // Replay: the recorded prompt tokens and generated tokens from the start under
    // `settings`' options (its prompt text is ignored). Returns false (and emits
    // failed) when there is nothing to replay or the loaded model is another one.
    bool replay(RunSettings settings);
    void step(int n = 1);
    void run();    // until paused / end / limit
    void pause();
    void setStepDelayMs(int ms);
    void setPolicy(const PolicyConfig& policy);
    // Shows a saved trace (no live session; Replay needs the model loaded).
    // Throws kvscope::Error, changing nothing, when the trace cannot be shown.
    void openTrace(SharedTracePtr trace);

signals:
    void modelLoaded(const QString& path, double load_ms);
    void modelFailed(const QString& path, const QString& message);
    void loadingChanged(bool loading);
    void busyChanged(bool busy);
    void runStopped(const QString& reason);
    void failed(const QString& message);
    void policyApplied(const kvscope::PolicyConfig& policy);
    void stepArrived();   // a step's snapshot reached the history

private:
    void start(const RunSettings& settings, bool run_after);
    void onSnapshot(const KvSnapshotPtr& snapshot, bool prefill);

    QThread thread_;
    DecodeWorker* worker_;  // lives on thread_, deleted when it finishes
    SessionHistory history_;
    std::shared_ptr<const Model> model_;
    QString model_path_;
    RunSettings last_settings_;
    bool busy_ = false;
    bool loading_ = false;
    bool has_run_ = false;
    bool live_ = false;       // snapshots belong to the history (false after opening a file, until the next run)
    TokenRate rate_;          // over the run going on
};

}  // namespace kvscope::gui
