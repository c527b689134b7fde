#include "core/session_controller.h"

#include <QElapsedTimer>
#include <QMetaObject>

namespace kvscope::gui {

namespace {
qint64 now_ns() {
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.nsecsElapsed();
}
}  // namespace

SessionController::SessionController(QObject* parent) : QObject(parent), worker_(new DecodeWorker) {
    qRegisterMetaType<KvSnapshotPtr>();
    qRegisterMetaType<RunSettings>();
    qRegisterMetaType<PolicyConfig>();
    qRegisterMetaType<SharedTracePtr>();
    qRegisterMetaType<std::shared_ptr<const Model>>();
    thread_.setObjectName("kvscope-decoder");
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);

    connect(worker_, &DecodeWorker::modelLoaded, this,
            [this](std::shared_ptr<const Model> model, const QString& path, double ms) {
                model_ = std::move(model);
                model_path_ = path;
                has_run_ = false;
                live_ = false;
                loading_ = false;
                history_.clear();  // tells the views
                emit loadingChanged(false);
                emit modelLoaded(path, ms);
            });
    connect(worker_, &DecodeWorker::modelFailed, this, [this](const QString& path, const QString& message) {
        loading_ = false;
        emit loadingChanged(false);
        emit modelFailed(path, message);
    });
    connect(worker_, &DecodeWorker::runStarted, this, [this](SharedTracePtr trace, const RunSettings& settings) {
        last_settings_ = settings;
        has_run_ = true;
        live_ = true;
        history_.begin(std::move(trace));
    });
    connect(worker_, &DecodeWorker::prefilled, this, [this](const KvSnapshotPtr& s) { onSnapshot(s, true); });
    connect(worker_, &DecodeWorker::stepped, this, [this](const KvSnapshotPtr& s) { onSnapshot(s, false); });
    connect(worker_, &DecodeWorker::busyChanged, this, [this](bool busy) {
        if (busy && !busy_) rate_.reset();  // each Run (or Step xN) is measured on its own
        busy_ = busy;
        emit busyChanged(busy);
    });
    connect(worker_, &DecodeWorker::runStopped, this, &SessionController::runStopped);
    connect(worker_, &DecodeWorker::failed, this, &SessionController::failed);
    connect(worker_, &DecodeWorker::policyApplied, this, [this](const PolicyConfig& p) {
        last_settings_.options.policy = p;
        emit policyApplied(p);
    });
    thread_.start();
}

SessionController::~SessionController() {
    worker_->requestPause();
    QMetaObject::invokeMethod(worker_, &DecodeWorker::shutdown, Qt::QueuedConnection);
    thread_.quit();
    thread_.wait();
}

void SessionController::onSnapshot(const KvSnapshotPtr& snapshot, bool prefill) {
    worker_->snapshotConsumed();
    if (!live_) return;  // a late snapshot of a run the user left (opened a file, loaded a model)
    try {
        if (prefill)
            history_.addPrefill(snapshot);
        else
            history_.addStep(snapshot);
    } catch (const std::exception& e) {  // never out of a slot: Qt would abort
        // The history may now be out of step with the trace: stop recording this run.
        live_ = false;
        worker_->requestPause();
        emit failed(tr("Could not record step %1 (the run was stopped; Reset starts a new one): %2")
                        .arg(snapshot->step)
                        .arg(QString::fromStdString(e.what())));
        return;
    }
    if (!prefill) rate_.add(now_ns());
    emit stepArrived();
}

void SessionController::loadModel(const QString& path) {
    worker_->requestPause();
    loading_ = true;
    emit loadingChanged(true);
    QMetaObject::invokeMethod(worker_, [w = worker_, path] { w->loadModel(path); }, Qt::QueuedConnection);
}

void SessionController::reset(const RunSettings& settings) { start(settings, false); }

void SessionController::start(const RunSettings& settings, bool run_after) {
    worker_->requestPause();
    rate_.reset();
    QMetaObject::invokeMethod(worker_, [w = worker_, settings, run_after] { w->startRun(settings, run_after); },
                              Qt::QueuedConnection);
}

bool SessionController::replay(RunSettings settings) {
    if (history_.empty() || history_.generatedTokens().empty()) {
        emit failed(tr("Nothing to replay: generate some tokens first."));
        return false;
    }
    if (!model_) {
        emit failed(tr("Load a model to replay this session."));
        return false;
    }
    const TraceHeader& h = history_.header();
    const ModelConfig& c = model_->config();
    if (h.n_layer != c.n_layer || h.n_head != c.n_head || h.n_head_kv != c.n_head_kv || h.head_dim != c.head_dim) {
        emit failed(tr("This session was recorded with another model (%1: %2 layers, %3 heads); the loaded one has "
                       "%4 layers and %5 heads.")
                        .arg(QString::fromStdString(h.model_name)).arg(h.n_layer).arg(h.n_head)
                        .arg(c.n_layer).arg(c.n_head));
        return false;
    }
    // The recorded prompt, token for token, and the recorded generated tokens.
    settings.prompt_tokens = h.prompt_tokens;
    settings.forced = history_.generatedTokens();
    const auto needed = static_cast<int32_t>(settings.prompt_tokens.size() + settings.forced.size()) + 1;
    if (settings.options.n_ctx != 0 && settings.options.n_ctx < needed) {
        emit failed(tr("Replay needs a context of at least %1 tokens (the recorded text); the context length is %2.")
                        .arg(needed).arg(settings.options.n_ctx));
        return false;
    }
    start(settings, true);  // runs until the replayed tokens are used up
    return true;
}

void SessionController::step(int n) {
    QMetaObject::invokeMethod(worker_, [w = worker_, n] { w->stepTokens(n); }, Qt::QueuedConnection);
}

void SessionController::run() { step(0); }

void SessionController::pause() { worker_->requestPause(); }

void SessionController::setStepDelayMs(int ms) { worker_->setStepDelayMs(ms); }

void SessionController::setPolicy(const PolicyConfig& policy) {
    QMetaObject::invokeMethod(worker_, [w = worker_, policy] { w->setPolicy(policy); }, Qt::QueuedConnection);
}

void SessionController::openTrace(SharedTracePtr trace) {
    // The flags first: the views hear of the new history (reset()) from inside open().
    const bool had_run = has_run_, was_live = live_;
    has_run_ = false;
    live_ = false;
    try {
        history_.open(std::move(trace));  // throws, changing nothing, when the file cannot be shown
    } catch (...) {
        has_run_ = had_run;
        live_ = was_live;
        throw;
    }
    worker_->requestPause();  // the live session stays on the worker, unseen, until the next Reset
}

}  // namespace kvscope::gui
