#pragma once
// The decoding worker: lives on its own QThread and owns the model, the
// session and the trace's writer side. The GUI thread talks to it only by
// queued slot calls (loadModel, startRun, stepTokens, setPolicy) and a few
// thread-safe atomics (pause, speed, back-pressure); results come back as
// queued signals carrying immutable snapshots. The GUI thread therefore never
// waits on the engine, and the token rate is decoupled from the repaint rate.
//
// A Run is a chain of single steps scheduled through the worker's event loop,
// so policy changes and pause requests queued by the GUI land between steps.
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

#include "core/run_settings.h"
#include "core/shared_trace.h"
#include "model/model.h"
#include "session/session.h"

Q_DECLARE_METATYPE(std::shared_ptr<const kvscope::Model>)

namespace kvscope::gui {

class DecodeWorker : public QObject {
    Q_OBJECT
public:
    DecodeWorker();
    ~DecodeWorker() override;

    // Thread-safe, callable from any thread.
    void requestPause() { pause_requested_.store(true); }
    void setStepDelayMs(int ms) { step_delay_ms_.store(ms < 0 ? 0 : ms); }
    // The GUI took one snapshot off the queue. The worker keeps at most
    // kMaxInFlight snapshots unconsumed, so a slow GUI slows decoding instead
    // of queueing unbounded memory.
    void snapshotConsumed() { in_flight_.fetch_sub(1); }
    static constexpr int kMaxInFlight = 3;

public slots:
    void loadModel(const QString& path);
    // Builds a new session (the previous one is dropped), runs the prompt and
    // emits runStarted then prefilled; with run_after, then runs (Replay). When
    // the settings are refused, emits failed and leaves the previous session as it was.
    void startRun(const kvscope::gui::RunSettings& settings, bool run_after = false);
    // n steps (n <= 0: until paused, end of generation, max tokens or context full).
    void stepTokens(int n);
    void setPolicy(const kvscope::PolicyConfig& policy);
    // Frees the session and model (before the thread quits).
    void shutdown();

signals:
    void modelLoaded(std::shared_ptr<const kvscope::Model> model, const QString& path, double load_ms);
    void modelFailed(const QString& path, const QString& message);
    void runStarted(kvscope::gui::SharedTracePtr trace, const kvscope::gui::RunSettings& settings);
    void prefilled(KvSnapshotPtr snapshot);
    void stepped(KvSnapshotPtr snapshot);
    void busyChanged(bool running);          // a Run (several steps) started or stopped
    void runStopped(const QString& reason);  // why a Run or a step sequence ended ("" when asked to pause)
    void failed(const QString& message);     // a setting or step was refused; nothing changed
    void policyApplied(const kvscope::PolicyConfig& policy);

private:
    void tick();  // one step of the current Run, then schedules the next
    void scheduleTick(int delay_ms);
    bool stepOnce(QString* stop_reason);
    void stopRun(const QString& reason);

    std::shared_ptr<const Model> model_;
    std::unique_ptr<Session> session_;
    SharedTracePtr trace_;
    RunSettings settings_;
    int32_t steps_done_ = 0;  // generated tokens in this run
    int remaining_ = 0;       // steps left in the current request (<0: unbounded)
    bool running_ = false;
    uint64_t chain_ = 0;      // which Run a queued tick belongs to
    bool ended_ = false;      // end of generation, context full or replay finished: no more steps
    std::atomic<bool> pause_requested_{false};
    std::atomic<int> step_delay_ms_{0};
    std::atomic<int> in_flight_{0};
};

}  // namespace kvscope::gui
