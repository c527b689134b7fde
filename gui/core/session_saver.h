#pragma once
// Saves a run (File ▸ Save session) on a thread of its own, so the window
// keeps drawing and the views keep reading while a trace of up to 1 GiB is
// written: export_trace_shared takes the trace's lock only while it copies a
// piece out (a few dozen steps' JSON or ~1 MiB of attention), never while it
// writes, and saves the trace as it was when the save began. Files are
// written atomically: a failed or cancelled save leaves nothing behind (and
// an existing file at the path as it was).
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

#include "core/shared_trace.h"

class QThread;

namespace kvscope::gui {

class SessionSaver : public QObject {
    Q_OBJECT
public:
    explicit SessionSaver(QObject* parent = nullptr);
    ~SessionSaver() override;  // cancels a save in progress and waits for it to clean up

    // Starts writing `trace` to <prefix>.json and <prefix>.attn.bin; `path`
    // names it in messages. False (and nothing starts) while a save runs.
    bool start(SharedTracePtr trace, const QString& prefix, const QString& path);
    // The save stops at its next piece, removes what it wrote, and finished() says so.
    void cancel();
    bool busy() const { return thread_ != nullptr; }
    const QString& path() const { return path_; }  // of the save in progress, or of the last one

signals:
    void progress(int percent);
    // error "" and !cancelled: saved. Emitted once per start(), on the GUI thread.
    void finished(const QString& error, bool cancelled);

private:
    void onThreadFinished();

    QThread* thread_ = nullptr;  // non-null while a save runs
    QString path_;
    std::atomic<bool> cancel_{false};
    std::atomic<int> percent_{-1};  // the last percentage sent (progress is sent when it changes)
    // Written by the thread before it ends, read after QThread::finished.
    QString error_;
    bool cancelled_ = false;
};

}  // namespace kvscope::gui
