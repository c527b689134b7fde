// SweepDialog with the real model: a tiny sweep over a ~48-token text, its
// rows against kvscope::run_sweep, cancel, closing while running, the model
// kept alive by the dialog, exports, grid errors and the cap on grid size.
#include <QCheckBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <tuple>

#include "eval/sweep.h"
#include "gui_test_support.h"
#include "support/cpu_backends.h"
#include "plots/sweep_dialog.h"
#include "plots/sweep_row_count.h"

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
constexpr int kKvBytesColumn = 4;
constexpr int kProgressColumn = 8;

// The process-wide test model, shared without ownership (it lives until exit).
std::shared_ptr<const kvscope::Model> unowned(const kvscope::Model& model) {
    return std::shared_ptr<const kvscope::Model>(&model, [](const kvscope::Model*) {});
}

// Tokens scored so far in `row`, from its progress bar.
int row_progress(const SweepDialog& dialog, int row) {
    auto* table = dialog.findChild<QTableWidget*>("resultsTable");
    auto* bar = qobject_cast<QProgressBar*>(table->cellWidget(row, kProgressColumn));
    return bar != nullptr ? bar->value() : -1;
}

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
    void dialogKeepsTheModelAlive();
    void nullModelIsRefused();
    void exportsCsvAndPng();
    void badGridShowsErrorAndDisablesRun();
    void rowCountMatchesSweepPlan();
    void hugeGridIsRefusedWithAMessage();
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

    SweepDialog dialog(unowned(model), tokens, base);
    dialog.setGrid(grid);
    QVERIFY(dialog.setThreads(kThreads));
    QCOMPARE(dialog.validationError(), QString());
    QSignalSpy finished(&dialog, &SweepDialog::sweepFinished);

    // Each row's numbers as they reach the table: (row, rows in results(), running()).
    auto* table = dialog.findChild<QTableWidget*>("resultsTable");
    std::vector<std::tuple<int, size_t, bool>> arrivals;
    connect(table->model(), &QAbstractItemModel::dataChanged, this,
            [&](const QModelIndex& top_left, const QModelIndex& bottom_right) {
                if (top_left.column() > kKvBytesColumn || bottom_right.column() < kKvBytesColumn) return;
                if (table->item(top_left.row(), kKvBytesColumn)->text().isEmpty()) return;  // the plan's empty cells
                arrivals.emplace_back(top_left.row(), dialog.results().size(), dialog.running());
            });

    dialog.start();
    // start() returns at once: the rows run on the worker thread and reach
    // this thread only through its event loop.
    QVERIFY(dialog.running());
    QVERIFY(dialog.results().empty());
    QVERIFY(!dialog.findChild<QPushButton*>("runButton")->isEnabled());
    QVERIFY(dialog.findChild<QPushButton*>("cancelButton")->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QVERIFY(!dialog.running());
    // The rows came in one at a time while the sweep was running, not all at the end.
    QCOMPARE(arrivals.size(), plan.size());
    for (size_t i = 0; i < arrivals.size(); ++i)
        QCOMPARE(arrivals[i], std::make_tuple(static_cast<int>(i), i + 1, true));
    QVERIFY2(dialog.statusText().startsWith("done"), qPrintable(dialog.statusText()));

    const auto expected = kvscope::run_sweep(model, tokens, grid, base, kvscope::test::cpu_backends(kThreads));
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
    SweepDialog dialog(unowned(model), tokens, {});
    dialog.setGrid(tiny_grid());
    QVERIFY(dialog.setThreads(kThreads));
    QSignalSpy finished(&dialog, &SweepDialog::sweepFinished);
    dialog.start();
    // The second row has started scoring: the first row's result has come in
    // (the worker's signals arrive in order) and three rows are still to run.
    QTRY_VERIFY_WITH_TIMEOUT(row_progress(dialog, 1) > 0, 60000);
    QCOMPARE(dialog.results().size(), size_t{1});
    dialog.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(!dialog.running());
    QVERIFY(dialog.results().size() >= 1 && dialog.results().size() < planned);
    QVERIFY2(dialog.statusText().startsWith("cancelled"), qPrintable(dialog.statusText()));
    QVERIFY(std::isfinite(dialog.results()[0].ppl));
    // Nothing else is queued: no second sweepFinished.
    QCoreApplication::processEvents();
    QCOMPARE(finished.count(), 1);
    QVERIFY(dialog.findChild<QPushButton*>("runButton")->isEnabled());
}

void PlotsSweepTest::closingWhileRunningCancelsAndWaits() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    {
        SweepDialog dialog(unowned(model), tokens, {});
        dialog.setGrid(tiny_grid());
        QVERIFY(dialog.setThreads(kThreads));
        dialog.show();
        QSignalSpy finished(&dialog, &SweepDialog::sweepFinished);
        QSignalSpy closed(&dialog, &QDialog::finished);  // QDialog's own signal, no longer hidden
        dialog.start();
        QTRY_VERIFY_WITH_TIMEOUT(row_progress(dialog, 0) > 0, 60000);  // mid-row
        QVERIFY(dialog.running());
        dialog.reject();  // the Close button / Escape
        QVERIFY(!dialog.running());
        QVERIFY(!dialog.isVisible());
        QCOMPARE(finished.count(), 1);
        QCOMPARE(closed.count(), 1);
        QCOMPARE(closed.at(0).at(0).toInt(), static_cast<int>(QDialog::Rejected));
        QVERIFY2(dialog.statusText().startsWith("cancelled"), qPrintable(dialog.statusText()));
    }
    {
        // Destroyed outright while running.
        auto dialog = std::make_unique<SweepDialog>(unowned(model), tokens, kvscope::SessionOptions{});
        dialog->setGrid(tiny_grid());
        dialog->start();
        QTRY_VERIFY_WITH_TIMEOUT(row_progress(*dialog, 0) > 0, 60000);
        QVERIFY(dialog->running());
        dialog.reset();
        // The worker's queued signals died with the dialog; none may reach it.
        QCoreApplication::processEvents();
    }
}

void PlotsSweepTest::dialogKeepsTheModelAlive() {
    KVSCOPE_QTEST_REQUIRE_MODEL(shared_model);
    KVSCOPE_QTEST_REQUIRE_MODEL_PATH(path);
    // A model of the dialog's own, as the app holds it: the app may drop it
    // (loading another model, or exiting) while the dialog is open and running.
    std::shared_ptr<const kvscope::Model> owner = kvscope::Model::load(path);
    const std::weak_ptr<const kvscope::Model> watch = owner;
    const auto tokens = text_tokens(*owner);
    kvscope::SweepGrid grid = tiny_grid();
    grid.policies = {kvscope::PolicyKind::Full};
    auto dialog = std::make_unique<SweepDialog>(owner, tokens, kvscope::SessionOptions{});
    dialog->setGrid(grid);
    QVERIFY(dialog->setThreads(kThreads));
    QSignalSpy finished(dialog.get(), &SweepDialog::sweepFinished);
    dialog->start();
    QTRY_VERIFY_WITH_TIMEOUT(row_progress(*dialog, 0) > 0, 60000);
    QVERIFY(dialog->running());
    owner.reset();  // the app lets go of the model mid-sweep
    QVERIFY(!watch.expired());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY2(dialog->statusText().startsWith("done"), qPrintable(dialog->statusText()));
    // The rows are those of the same model file, run the usual way.
    const auto expected = kvscope::run_sweep(shared_model, tokens, grid, {}, kvscope::test::cpu_backends(kThreads));
    QCOMPARE(dialog->results().size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) QCOMPARE(dialog->results()[i].ppl, expected[i].ppl);
    // The dialog still uses it (tokenizing a text file) after the sweep.
    QVERIFY(!watch.expired());
    QTemporaryDir dir;
    const QString file = dir.filePath("more.txt");
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("A short text to score.");
    }
    QCOMPARE(dialog->loadTextFile(file), QString());
    QCOMPARE(dialog->tokenCount(), shared_model.tokenizer().encode("A short text to score.", true, false).size());
    // The last owner gone, the model is freed.
    dialog.reset();
    QVERIFY(watch.expired());
}

void PlotsSweepTest::nullModelIsRefused() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             SweepDialog(nullptr, std::vector<kvscope::TokenId>{1, 2, 3}, kvscope::SessionOptions{}));
}

void PlotsSweepTest::exportsCsvAndPng() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    SweepDialog dialog(unowned(model), tokens, {});
    QTemporaryDir dir;
    QVERIFY(dialog.exportCsv(dir.filePath("early.csv")).contains("nothing to export"));
    QVERIFY(!QFile::exists(dir.filePath("early.csv")));
    kvscope::SweepGrid grid = tiny_grid();
    grid.policies = {kvscope::PolicyKind::Full, kvscope::PolicyKind::Window};
    grid.windows = {8};
    dialog.setGrid(grid);
    QVERIFY(dialog.setThreads(kThreads));
    QSignalSpy finished(&dialog, &SweepDialog::sweepFinished);
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
    SweepDialog dialog(unowned(model), tokens, {});
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

void PlotsSweepTest::rowCountMatchesSweepPlan() {
    using kvscope::gui::sweep_row_count;
    kvscope::SweepGrid g = tiny_grid();
    QCOMPARE(sweep_row_count(g), uint64_t{kvscope::sweep_plan(g).size()});
    // S = 0 run as a window when the window policy is not in the grid; S >= W
    // kept as a skipped row; several KV types.
    g.policies = {kvscope::PolicyKind::Full, kvscope::PolicyKind::SinksWindow};
    g.windows = {4, 8, 16};
    g.sinks = {0, 4, 8, 12};
    g.kv_types = {kvscope::KvValueType::F32, kvscope::KvValueType::Q8_0};
    const auto plan = kvscope::sweep_plan(g);
    QVERIFY(std::any_of(plan.begin(), plan.end(), [](const kvscope::SweepRow& r) { return !r.ran(); }));
    QCOMPARE(sweep_row_count(g), uint64_t{plan.size()});
    g.policies.push_back(kvscope::PolicyKind::Window);
    QCOMPARE(sweep_row_count(g), uint64_t{kvscope::sweep_plan(g).size()});
    g.policies = kvscope::sweep_policies();  // every policy the registry lets a sweep run
    QCOMPARE(sweep_row_count(g), uint64_t{kvscope::sweep_plan(g).size()});
}

void PlotsSweepTest::hugeGridIsRefusedWithAMessage() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto tokens = text_tokens(model);
    SweepDialog dialog(unowned(model), tokens, {});
    dialog.setGrid(tiny_grid());
    auto* run = dialog.findChild<QPushButton*>("runButton");
    auto* error = dialog.findChild<QLabel*>("gridError");
    auto* table = dialog.findChild<QTableWidget*>("resultsTable");
    QVERIFY(run->isEnabled());
    QCOMPARE(table->rowCount(), 5);  // the preview of tiny_grid's rows

    // 1000 windows x 100 sinks: 1000 window rows + 1000 x 99 sinks rows + full.
    QStringList windows, sinks;
    for (int w = 1; w <= 1000; ++w) windows << QString::number(w);
    for (int s = 0; s < 100; ++s) sinks << QString::number(s);
    dialog.findChild<QLineEdit*>("windowsEdit")->setText(windows.join(","));  // 1000 + 1000 x 1 + 1 rows: refused too
    QVERIFY2(error->text().contains("the grid makes 2001 rows"), qPrintable(error->text()));
    dialog.findChild<QLineEdit*>("sinksEdit")->setText(sinks.join(","));
    QVERIFY2(error->text().contains("the grid makes 100001 rows; at most 512 can run in one sweep"),
             qPrintable(error->text()));
    QCOMPARE(dialog.validationError(), error->text());
    QVERIFY(!error->isHidden());
    QVERIFY(!run->isEnabled());
    dialog.start();  // refused
    QVERIFY(!dialog.running());
    QCOMPARE(table->rowCount(), 5);  // no row (and no progress bar) made for the refused grid

    // 513 rows refused, 512 allowed by the cap (a window over the text's
    // length is then the problem the message names).
    windows.clear();
    for (int w = 1; w <= 512; ++w) windows << QString::number(w);
    dialog.findChild<QCheckBox*>("policySinks")->setChecked(false);
    dialog.findChild<QLineEdit*>("windowsEdit")->setText(windows.join(","));
    QVERIFY2(error->text().contains("the grid makes 513 rows"), qPrintable(error->text()));
    dialog.findChild<QCheckBox*>("policyFull")->setChecked(false);
    QVERIFY2(!error->text().contains("rows;") && error->text().contains("window"), qPrintable(error->text()));
    QVERIFY(!run->isEnabled());

    // A runnable grid again: Run comes back.
    dialog.setGrid(tiny_grid());
    QVERIFY(error->text().isEmpty());
    QVERIFY(run->isEnabled());
    QCOMPARE(table->rowCount(), 5);

    // The registry's scoring methods are there to tick: tova adds one row per
    // window, which is its budget.
    auto* tova = dialog.findChild<QCheckBox*>("policyTova");
    QVERIFY(tova != nullptr);
    QVERIFY(tova->toolTip().contains(QStringLiteral("budget")));
    QTest::mouseClick(tova, Qt::LeftButton, {}, QPoint(8, tova->height() / 2));
    QVERIFY(tova->isChecked());
    QVERIFY(run->isEnabled());
    QCOMPARE(table->rowCount(), 7);
    QCOMPARE(table->item(5, 0)->text(), QStringLiteral("tova"));
    QCOMPARE(table->item(5, 1)->text(), QStringLiteral("8"));
    QCOMPARE(table->item(6, 1)->text(), QStringLiteral("16"));
}

void PlotsSweepTest::textFileIsTokenized() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    SweepDialog dialog(unowned(model), text_tokens(model), {});
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
    auto* source = dialog.findChild<QLabel*>("textSource");
    QVERIFY(source->text().contains("story.txt"));
    // File names are shown as they are, never as HTML.
    QCOMPARE(source->textFormat(), Qt::PlainText);
    QCOMPARE(dialog.findChild<QLabel*>("gridError")->textFormat(), Qt::PlainText);
    QCOMPARE(dialog.findChild<QLabel*>("sweepStatus")->textFormat(), Qt::PlainText);
    const QString html_name = dir.filePath("<b>bold<b> & co.txt");
    {
        QFile f(html_name);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }
    QCOMPARE(dialog.loadTextFile(html_name), QString());
    QVERIFY2(source->text().startsWith("<b>bold<b> & co.txt ("), qPrintable(source->text()));
    const QString error = dialog.loadTextFile(dir.filePath("missing.txt"));
    QVERIFY(error.contains("missing.txt"));
    QCOMPARE(dialog.tokenCount(), model.tokenizer().encode(text, true, false).size());  // unchanged
}

QTEST_MAIN(PlotsSweepTest)
#include "plots_sweep_test.moc"
