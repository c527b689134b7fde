// ModelFetcher: runs a fetch script, turns its progress lines into progress
// signals and its last stdout line into the model's path. A stand-in script
// plays the download here (the real one is exercised by scripts/test, which
// fetches the model the other suites use).
#include <QtTest>

#include <QFile>
#include <QTemporaryDir>

#include "app/model_fetcher.h"

using kvscope::gui::ModelFetcher;

class AppFetcherTest : public QObject {
    Q_OBJECT

private:
    static QString writeScript(const QTemporaryDir& dir, const QByteArray& body) {
        const QString path = dir.filePath("fake-fetch");
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write("#!/usr/bin/env bash\n" + body);
        f.close();
        f.setPermissions(f.permissions() | QFileDevice::ExeOwner);
        return path;
    }

private slots:
    void reportsProgressThenThePath() {
        QTemporaryDir dir;
        const QString model = dir.filePath("model.gguf");
        QFile(model).open(QIODevice::WriteOnly);
        const QString script = writeScript(dir, QByteArray("[ \"$KVSCOPE_FETCH_PROGRESS\" = 1 ] || exit 3\n") +
                                                    "echo 'fetch-model: downloading' >&2\n"
                                                    "for n in 10 50 100; do echo \"fetch-model: progress $n 100\" >&2; done\n"
                                                    "echo 'fetch-model: falling back to pip (no progress)' >&2\n"
                                                    "echo '" + model.toUtf8() + "'\n");
        ModelFetcher fetcher;
        fetcher.setScript(script);
        QSignalSpy progress(&fetcher, &ModelFetcher::progress);
        QSignalSpy messages(&fetcher, &ModelFetcher::message);
        QSignalSpy finished(&fetcher, &ModelFetcher::finished);
        QSignalSpy failed(&fetcher, &ModelFetcher::failed);
        fetcher.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count() + failed.count(), 1, 20000);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(finished.at(0).at(0).toString(), model);
        QCOMPARE(progress.count(), 4);
        QCOMPARE(progress.at(2).at(0).toLongLong(), 100);
        QCOMPARE(progress.at(2).at(1).toLongLong(), 100);
        QCOMPARE(progress.at(3).at(1).toLongLong(), 0);  // the fallback: size unknown again
        bool saw = false;
        for (const auto& m : messages) saw = saw || m.at(0).toString() == "fetch-model: downloading";
        QVERIFY(saw);
    }

    void aFailingScriptIsReported() {
        QTemporaryDir dir;
        const QString script = writeScript(dir, "echo 'fetch-model: offline' >&2\nexit 1\n");
        ModelFetcher fetcher;
        fetcher.setScript(script);
        QSignalSpy finished(&fetcher, &ModelFetcher::finished);
        QSignalSpy failed(&fetcher, &ModelFetcher::failed);
        fetcher.start();
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 20000);
        QCOMPARE(finished.count(), 0);
        QVERIFY(failed.at(0).at(0).toString().contains("exit code 1"));
    }

    // Destroying the fetcher mid-download stops the child and emits nothing.
    void destroyingMidDownloadIsSafe() {
        QTemporaryDir dir;
        const QString script = writeScript(dir, "sleep 30\n");
        QSignalSpy* failed = nullptr;
        {
            ModelFetcher fetcher;
            fetcher.setScript(script);
            failed = new QSignalSpy(&fetcher, &ModelFetcher::failed);
            fetcher.start();
            QTRY_VERIFY(fetcher.running());
        }
        QCOMPARE(failed->count(), 0);
        delete failed;
    }
};

QTEST_MAIN(AppFetcherTest)
#include "app_fetcher_test.moc"
