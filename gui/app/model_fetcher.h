#pragma once
// Fetches the default model (SmolLM2-135M-Instruct Q4_1) by running the
// project's scripts/fetch-model in a child process, streaming its messages.
// The script checks the SHA-256 and prints the file's path when done.
#include <QObject>
#include <QProcess>
#include <QString>

namespace kvscope::gui {

// Where the default model lives once fetched ($XDG_CACHE_HOME or ~/.cache, /kvscope/models/...).
QString defaultModelPath();

class ModelFetcher : public QObject {
    Q_OBJECT
public:
    explicit ModelFetcher(QObject* parent = nullptr);
    ~ModelFetcher() override;  // stops a download without emitting anything
    void start();   // no-op while running
    void cancel();  // stops a download; emits failed("cancelled")
    bool running() const { return process_.state() != QProcess::NotRunning; }
    static QString scriptPath();  // empty when the source tree's script is not there
    // Another script with the same contract (tests use a stand-in that fakes a download).
    void setScript(const QString& path) { script_ = path; }

signals:
    void message(const QString& line);            // a message of the script
    void progress(qint64 done, qint64 total);     // bytes downloaded so far (total 0: unknown, e.g. after a fallback to pip)
    void finished(const QString& path);           // the model's path
    void failed(const QString& reason);

private:
    QProcess process_;
    QString stdout_;
    QString stderr_tail_;  // an incomplete last line of the script's messages
    QString script_;       // empty: scriptPath()
};

}  // namespace kvscope::gui
