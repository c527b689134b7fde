// File ▸ Save session in the background: the files equal export_trace's, one
// save at a time, closing the window waits for the save, Cancel (in the
// status bar) leaves nothing behind and an older file at the path as it was.
// Synthetic traces of SmolLM2's shape (tests/gui/synthetic_trace.h), no model.
#include <QtTest>

#include <QAction>
#include <QDir>
#include <QFile>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>

#include "app/main_window.h"
#include "app_test_window.h"
#include "session/trace_io.h"
#include "synthetic_trace.h"

using namespace kvscope;
using namespace kvscope::gui;
using namespace kvscope::test;

namespace {

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A window showing a trace big enough that a save takes a while (~40 MiB).
std::unique_ptr<MainWindow> window_on(const SharedTracePtr& trace) {
    auto w = std::make_unique<MainWindow>();
    w->setErrorDialogsEnabled(false);
    w->resize(1200, 800);
    w->show();
    w->controller().openTrace(trace);
    return w;
}

SharedTracePtr big_trace() {
    SyntheticRun run;
    run.n_layer = 30;
    run.window = 256;
    return synthetic_trace(run, 600);
}

QAction* save_action(MainWindow& w) {
    for (QAction* a : w.findChildren<QAction*>())
        if (a->text().startsWith(QStringLiteral("Save session"))) return a;
    return nullptr;
}

}  // namespace

class AppSaveTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
    }

    // One save at a time; closing the window during a save closes it once the
    // files are written, and they are what export_trace writes.
    void aSecondSaveIsRefusedAndClosingWaitsForTheSave() {
        const SharedTracePtr trace = big_trace();
        auto w = window_on(trace);
        QTemporaryDir dir;
        QSignalSpy finished(w.get(), &MainWindow::saveFinished);
        QCOMPARE(w->saveSession(dir.filePath("a.json")), QString());
        QVERIFY(w->saving());
        QVERIFY(!save_action(*w)->isEnabled());
        QVERIFY(w->findChild<QProgressBar*>(QStringLiteral("saveProgress"))->isVisible());
        const QString second = w->saveSession(dir.filePath("b.json"));
        QVERIFY2(second.contains(QStringLiteral("being saved")), qPrintable(second));
        QVERIFY(!w->close());  // waits for the save...
        QVERIFY(w->isVisible());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.at(0).at(0).toString(), QString());
        QTRY_VERIFY(!w->isVisible());  // ...then closes
        QVERIFY(!QFile::exists(dir.filePath("b.json")));
        // The same bytes as export_trace gives (the view state included).
        export_trace(trace->trace, dir.filePath("ref").toStdString());
        QCOMPARE(read_all(dir.filePath("a.json")), read_all(dir.filePath("ref.json")));
        QCOMPARE(read_all(dir.filePath("a.attn.bin")), read_all(dir.filePath("ref.attn.bin")));
    }

    // Cancel in the status bar: nothing written, an older session at the
    // path untouched, Save available again.
    void cancellingLeavesNothingBehind() {
        auto w = window_on(big_trace());
        QTemporaryDir dir;
        const QString path = dir.filePath("s.json");
        {
            QFile old(path);
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write("an older session");
        }
        QSignalSpy finished(w.get(), &MainWindow::saveFinished);
        QCOMPARE(w->saveSession(path), QString());
        auto* cancel = w->findChild<QToolButton*>(QStringLiteral("saveCancel"));
        QVERIFY(cancel != nullptr && cancel->isVisible());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        const QString outcome = finished.at(0).at(0).toString();
        QVERIFY2(outcome.contains(QStringLiteral("cancelled")), qPrintable(outcome));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("s.json")});
        QCOMPARE(read_all(path), QByteArray("an older session"));
        QVERIFY(!w->saving());
        QVERIFY(save_action(*w)->isEnabled());
        QVERIFY(!cancel->isVisible());
        // Closing during a cancelled save closes at once.
        QCOMPARE(w->saveSession(dir.filePath("t.json")), QString());
        QVERIFY(!w->close());
        QTest::mouseClick(cancel, Qt::LeftButton);
        QTRY_VERIFY(!w->isVisible());
        QVERIFY(!QFile::exists(dir.filePath("t.json")));
    }
};

QTEST_MAIN(AppSaveTest)
#include "app_save_test.moc"
