#include "core/session_saver.h"

#include <QMetaObject>
#include <QThread>

#include <cmath>

#include "session/trace_io.h"

namespace kvscope::gui {

SessionSaver::SessionSaver(QObject* parent) : QObject(parent) {}

SessionSaver::~SessionSaver() {
    if (!thread_) return;
    cancel_ = true;  // the export stops at its next piece and its AtomicFiles remove their temporaries
    thread_->wait();
    delete thread_;
}

bool SessionSaver::start(SharedTracePtr trace, const QString& prefix, const QString& path) {
    if (thread_ || !trace) return false;
    path_ = path;
    cancel_ = false;
    percent_ = -1;
    error_.clear();
    cancelled_ = false;
    thread_ = QThread::create([this, trace = std::move(trace), prefix = prefix.toStdString()] {
        try {
            const bool done = export_trace_shared(trace->trace, trace->mutex, prefix, [this](double fraction) {
                const int percent = static_cast<int>(std::lround(100.0 * fraction));
                if (percent_.exchange(percent) != percent)
                    QMetaObject::invokeMethod(this, [this, percent] { emit progress(percent); }, Qt::QueuedConnection);
                return !cancel_.load();
            });
            cancelled_ = !done;
        } catch (const std::exception& e) {  // an unwritable path, a full disk: named by the export
            error_ = QString::fromStdString(e.what());
        }
    });
    thread_->setObjectName("kvscope-save");
    connect(thread_, &QThread::finished, this, &SessionSaver::onThreadFinished, Qt::QueuedConnection);
    thread_->start();
    return true;
}

void SessionSaver::cancel() {
    if (thread_) cancel_ = true;
}

void SessionSaver::onThreadFinished() {
    if (!thread_) return;
    thread_->wait();  // finished() is emitted just before the thread ends
    delete thread_;
    thread_ = nullptr;
    emit finished(error_, cancelled_);
}

}  // namespace kvscope::gui
