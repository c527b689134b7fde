// SweepDialog with the real model: a tiny sweep over a ~48-token text, its
// rows against kvscope::run_sweep, cancel, closing while running, exports and
// grid errors.
#include <QCheckBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <qcustomplot.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "eval/sweep.h"
#include "gui_test_support.h"
#include "plots/sweep_dialog.h"

using kvscope::gui::SweepDialog;

namespace {

const char* const kText =
    "The old lighthouse keeper climbed the spiral stairs every evening at dusk. He trimmed the wick, polished "
    "the great lens and watched the ships pass safely along the rocky coast until morning came again. In winter "
    "the storms were loud, but the light never failed.";

std::vector<kvscope::TokenId> text_tokens(const kvscope::Model& model) {
    return model.tokenizer().encode(kText, /*add_special=*/true, /*parse_special=*/false);
}

kvscope::SweepGrid tiny_grid() {
    kvscope::SweepGrid g;
    g.policies = {kvscope::PolicyKind::Full, kvscope::PolicyKind::Window, kvscope::PolicyKind::SinksWindow};
    g.windows = {8, 16};
    g.sinks = {0, 4};
    g.kv_types = {kvscope::KvValueType::F16};
    g.reference = false;
    return g;
}

constexpr int kThreads = 2;

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class PlotsSweepTest : public QObject {
    Q_OBJECT
private slots:
    void sweepRowsEqualRunSweep();
    void cancelStopsWithFewerRows();
    void closingWhileRunningCancelsAndWaits();
    void exportsCsvAndPng();
    void badGridShowsErrorAndDisablesRun();
    void textFileIsTokenized();
};

void PlotsSweepTest::sweepRowsEqualRunSweep() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    QVERIFY2(tokens.size() >= 40 && tokens.size() <= 60, qPrintable(QString::number(tokens.size())));
    const kvscope::SweepGrid grid = tiny_grid();
    const auto plan = kvscope::sweep_plan(grid);
    // full; window 8, 16; sinks(4)+window(8), sinks(4)+window(16) (S = 0 is left to the window rows).
    QCOMPARE(plan.size(), size_t{5});
    kvscope::SessionOptions base;

    SweepDialog dialog(model, tokens, base);
    dialog.setGrid(grid);
    QVERIFY(dialog.setThreads(kThreads));
    QCOMPARE(dialog.validationError(), QString());
    QSignalSpy finished(&dialog, &SweepDialog::finished);

    // The GUI thread keeps turning while the sweep runs.
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&ticks] { ++ticks; });
    ticker.start(10);
    const auto t0 = std::chrono::steady_clock::now();
    dialog.start();
    QVERIFY(dialog.running());
    QVERIFY(!dialog.findChild<QPushButton*>("runButton")->isEnabled());
    QVERIFY(dialog.findChild<QPushButton*>("cancelButton")->isEnabled());
    // Rows come in while it runs, not only at the end.
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.results().empty(), 60000);
    QVERIFY(dialog.running());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("sweep of %zu rows over %zu tokens: %.2f s, %d GUI timer ticks", plan.size(), tokens.size(), seconds, ticks);
    QVERIFY2(ticks > seconds * 20, "the GUI thread was blocked");
    QVERIFY(!dialog.running());
    QVERIFY2(dialog.statusText().startsWith("done"), qPrintable(dialog.statusText()));

    const auto expected = kvscope::run_sweep(model, tokens, grid, base, kThreads);
    const auto& rows = dialog.results();
    QCOMPARE(rows.size(), plan.size());
    QCOMPARE(rows.size(), expected.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        QCOMPARE(rows[i].policy.describe(), plan[i].policy.describe());
        QCOMPARE(rows[i].note, expected[i].note);
        if (!rows[i].ran()) continue;
        QVERIFY(std::isfinite(rows[i].ppl) && rows[i].ppl > 1);
        QCOMPARE(rows[i].ppl, expected[i].ppl);
        QCOMPARE(rows[i].kv_bytes, expected[i].kv_bytes);
        QCOMPARE(rows[i].n_scored, static_cast<int32_t>(tokens.size()) - 1);
        QVERIFY(std::isnan(rows[i].mean_kl));  // reference off
    }
    // A window holds less than the full cache and predicts worse.
    QVERIFY(rows[1].kv_bytes < rows[0].kv_bytes);
    QVERIFY(rows[1].ppl > rows[0].ppl);

    auto* table = dialog.findChild<QTableWidget*>("resultsTable");
    QCOMPARE(table->rowCount(), static_cast<int>(plan.size()));
    QCOMPARE(table->item(0, 5)->text(), QString::number(rows[0].ppl, 'f', 3));
    auto* bar = qobject_cast<QProgressBar*>(table->cellWidget(0, 8));
    QVERIFY(bar);
    QCOMPARE(bar->value(), static_cast<int>(tokens.size()) - 1);
    QCOMPARE(dialog.findChild<QProgressBar*>("overallProgress")->value(),
             dialog.findChild<QProgressBar*>("overallProgress")->maximum());
    // The scatter: one point per row that ran, the Pareto front through the full cache's point.
    auto* scatter = dialog.findChild<QCustomPlot*>("scatterPlot");
    QCOMPARE(scatter->graph(0)->dataCount(), static_cast<int>(rows.size()));
    QVERIFY(scatter->plottableCount() == 2);
}

void PlotsSweepTest::cancelStopsWithFewerRows() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    const size_t planned = kvscope::sweep_plan(tiny_grid()).size();
    SweepDialog dialog(model, tokens, {});
    dialog.setGrid(tiny_grid());
    QVERIFY(dialog.setThreads(kThreads));
    QSignalSpy finished(&dialog, &SweepDialog::finished);
    dialog.start();
    QTRY_VERIFY_WITH_TIMEOUT(dialog.results().size() >= 1, 60000);
    const auto t0 = std::chrono::steady_clock::now();
    dialog.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    qInfo("cancel took %.0f ms", ms);
    QVERIFY(!dialog.running());
    QVERIFY(dialog.results().size() >= 1 && dialog.results().size() < planned);
    QVERIFY2(dialog.statusText().startsWith("cancelled"), qPrintable(dialog.statusText()));
    QVERIFY(std::isfinite(dialog.results()[0].ppl));
    QTest::qWait(50);
    QCOMPARE(finished.count(), 1);
    QVERIFY(dialog.findChild<QPushButton*>("runButton")->isEnabled());
}

void PlotsSweepTest::closingWhileRunningCancelsAndWaits() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    {
        SweepDialog dialog(model, tokens, {});
        dialog.setGrid(tiny_grid());
        QVERIFY(dialog.setThreads(kThreads));
        dialog.show();
        QSignalSpy finished(&dialog, &SweepDialog::finished);
        dialog.start();
        QTest::qWait(150);  // mid-row
        QVERIFY(dialog.running());
        const auto t0 = std::chrono::steady_clock::now();
        dialog.reject();  // the Close button / Escape
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        qInfo("closing while running took %.0f ms", ms);
        QVERIFY(!dialog.running());
        QVERIFY(!dialog.isVisible());
        QCOMPARE(finished.count(), 1);
    }
    {
        // Destroyed outright while running.
        auto dialog = std::make_unique<SweepDialog>(model, tokens, kvscope::SessionOptions{});
        dialog->setGrid(tiny_grid());
        dialog->start();
        QTest::qWait(100);
        QVERIFY(dialog->running());
        dialog.reset();
        QTest::qWait(50);  // no queued call may reach the deleted dialog
    }
}

void PlotsSweepTest::exportsCsvAndPng() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    SweepDialog dialog(model, tokens, {});
    QTemporaryDir dir;
    QVERIFY(dialog.exportCsv(dir.filePath("early.csv")).contains("nothing to export"));
    QVERIFY(!QFile::exists(dir.filePath("early.csv")));
    kvscope::SweepGrid grid = tiny_grid();
    grid.policies = {kvscope::PolicyKind::Full, kvscope::PolicyKind::Window};
    grid.windows = {8};
    dialog.setGrid(grid);
    QVERIFY(dialog.setThreads(kThreads));
    QSignalSpy finished(&dialog, &SweepDialog::finished);
    dialog.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(dialog.results().size(), size_t{2});

    const QString csv = dir.filePath("sweep.csv");
    QCOMPARE(dialog.exportCsv(csv), QString());
    const QList<QByteArray> lines = read_all(csv).trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0], QByteArray("policy,window,sinks,kv_type,positions,kv_bytes,ppl,mean_kl,top1,n_scored,note"));
    QVERIFY(lines[1].startsWith("full,0,0,f16,original," + QByteArray::number(qulonglong(dialog.results()[0].kv_bytes)) + ","));
    QVERIFY(lines[2].startsWith("window,8,0,f16,original,"));
    QCOMPARE(read_all(csv), QByteArray::fromStdString(kvscope::sweep_csv(dialog.results())));

    const QString png = dir.filePath("sweep.png");
    QCOMPARE(dialog.exportPng(png), QString());
    const QByteArray bytes = read_all(png);
    QVERIFY(bytes.startsWith("\x89PNG\r\n\x1a\n"));
    QVERIFY(bytes.size() > 5000);

    const QString bad_csv = dir.filePath("no-such-folder/sweep.csv");
    QVERIFY(dialog.exportCsv(bad_csv).contains("no-such-folder"));
    QVERIFY(!QFile::exists(bad_csv));
    const QString bad_png = dir.filePath("no-such-folder/sweep.png");
    QVERIFY(!dialog.exportPng(bad_png).isEmpty());
    QVERIFY(!QFile::exists(bad_png));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 2);
}

void PlotsSweepTest::badGridShowsErrorAndDisablesRun() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    SweepDialog dialog(model, tokens, {});
    dialog.setGrid(tiny_grid());
    auto* run = dialog.findChild<QPushButton*>("runButton");
    auto* error = dialog.findChild<QLabel*>("gridError");
    auto* windows = dialog.findChild<QLineEdit*>("windowsEdit");
    QVERIFY(run && error && windows);
    QVERIFY(run->isEnabled());
    QVERIFY(error->text().isEmpty());

    windows->setText("8, abc");
    QVERIFY2(error->text().contains("\"abc\" is not a whole number"), qPrintable(error->text()));
    QVERIFY(!error->isHidden());
    QVERIFY(!run->isEnabled());
    dialog.start();  // refused
    QVERIFY(!dialog.running());

    windows->setText("8, 0");
    QVERIFY(error->text().contains("windows"));
    QVERIFY(!run->isEnabled());
    windows->setText("8, 16");
    QVERIFY(run->isEnabled());
    QCOMPARE(dialog.grid().windows, (std::vector<int32_t>{8, 16}));

    // A window longer than the text cannot be run on it.
    windows->setText(QString::number(tokens.size() + 10));
    QVERIFY2(error->text().contains("window"), qPrintable(error->text()));
    QVERIFY(!run->isEnabled());
    windows->setText("8");

    dialog.findChild<QLineEdit*>("sinksEdit")->setText("-1");
    QVERIFY(error->text().contains("sinks"));
    QVERIFY(!run->isEnabled());
    dialog.findChild<QLineEdit*>("sinksEdit")->setText("0, 4");
    QVERIFY(run->isEnabled());

    for (const char* name : {"policyFull", "policyWindow", "policySinks"}) dialog.findChild<QCheckBox*>(name)->setChecked(false);
    QVERIFY(error->text().contains("policies"));
    QVERIFY(!run->isEnabled());
    dialog.findChild<QCheckBox*>("policyFull")->setChecked(true);
    QVERIFY(run->isEnabled());

    QVERIFY(!dialog.setThreads(0));
    dialog.setTokens({tokens[0]});  // one token: nothing to predict
    QVERIFY2(error->text().contains("at least 2 tokens"), qPrintable(error->text()));
    QVERIFY(!run->isEnabled());
}

void PlotsSweepTest::textFileIsTokenized() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    SweepDialog dialog(model, text_tokens(model), {});
    QTemporaryDir dir;
    const QString path = dir.filePath("story.txt");
    const char* text = "Once upon a time there was a small robot who loved to read books.";
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }
    QCOMPARE(dialog.loadTextFile(path), QString());
    QCOMPARE(dialog.tokenCount(), model.tokenizer().encode(text, true, false).size());
    QVERIFY(dialog.findChild<QLabel*>("textSource")->text().contains("story.txt"));
    const QString error = dialog.loadTextFile(dir.filePath("missing.txt"));
    QVERIFY(error.contains("missing.txt"));
    QCOMPARE(dialog.tokenCount(), model.tokenizer().encode(text, true, false).size());  // unchanged
}

QTEST_MAIN(PlotsSweepTest)
#include "plots_sweep_test.moc"
