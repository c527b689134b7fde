// PlotsPanel with real snapshots: a sinks+window session of the real model
// with the reference run on, stepped ten times.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "gui_test_support.h"
#include "render/byte_format.h"
#include "plots/plots_panel.h"
#include "plots/step_summary.h"
#include "session/session.h"

using kvscope::gui::PlotsPanel;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Ten steps of a sinks(2)+window(8) session: the prompt and the steps pass
// the window, so the cache holds less than a full one.
std::vector<kvscope::StepSnapshot> run_session(const kvscope::Model& model, bool reference, int n_steps = 10) {
    kvscope::SessionOptions opt;
    opt.n_ctx = 64;
    opt.policy.kind = kvscope::PolicyKind::SinksWindow;
    opt.policy.window = 8;
    opt.policy.sinks = 2;
    opt.reference_run = reference;
    kvscope::Session session(model, std::make_unique<kvscope::CpuBackend>(model, 2), opt);
    session.prefill(model.tokenizer().encode("The capital of France is", /*add_special=*/true, /*parse_special=*/false));
    std::vector<kvscope::StepSnapshot> steps;
    for (int i = 0; i < n_steps; ++i) steps.push_back(session.step());
    return steps;
}

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

template <typename Item>
Item* item_named(QCustomPlot* plot, const char* name) {
    return plot->findChild<Item*>(QString::fromLatin1(name));
}

}  // namespace

class PlotsPanelTest : public QObject {
    Q_OBJECT
private slots:
    void formatsBytesInBinaryUnits();
    void memoryPlotEqualsSnapshots();
    void devicePlotSaysHostMemoryOnCpu();
    void speedPlotStacksTheTimings();
    void cursorMovesAndSummaryDescribesItsStep();
    void qualityPlotHoldsReferenceMetrics();
    void withoutReferenceQualityPlotIsEmptyWithNote();
    void qualityPlotBreaksAtStepsWithoutReference();
    void infiniteKlLeavesAFiniteAxisRange();
    void percentOfAHugeCacheDoesNotOverflow();
    void appendingIsCoalescedAndRewindReplaces();
    void exportsPngAndPdfAtomically();
};

void PlotsPanelTest::formatsBytesInBinaryUnits() {
    using kvscope::render::format_bytes;
    QCOMPARE(format_bytes(512), QStringLiteral("512 B"));
    QCOMPARE(format_bytes(1536), QStringLiteral("1.5 KiB"));
    QCOMPARE(format_bytes(static_cast<uint64_t>(3.4 * kMiB)), QStringLiteral("3.4 MiB"));
    QCOMPARE(format_bytes(612ull * 1024 * 1024), QStringLiteral("612 MiB"));
    QCOMPARE(format_bytes(static_cast<uint64_t>(23.4 * kGiB)), QStringLiteral("23.4 GiB"));
    QCOMPARE(format_bytes(1024ull * 1024 * 1024 - 1), QStringLiteral("1.0 GiB"));  // not "1024 MiB"
}

void PlotsPanelTest::memoryPlotEqualsSnapshots() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, true);
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("memory");
    QVERIFY(plot);
    QCOMPARE(plot->graphCount(), 2);
    QCOMPARE(plot->graph(0)->dataCount(), static_cast<int>(steps.size()));
    QCOMPARE(plot->graph(1)->dataCount(), static_cast<int>(steps.size()));
    QCOMPARE(plot->yAxis->label(), QStringLiteral("MiB"));
    bool evicted = false;
    for (size_t i = 0; i < steps.size(); ++i) {
        const int n = static_cast<int>(i);
        QCOMPARE(plot->graph(0)->data()->at(n)->key, static_cast<double>(steps[i].step));
        QCOMPARE(plot->graph(0)->data()->at(n)->value, static_cast<double>(steps[i].memory.kv_bytes) / kMiB);
        QCOMPARE(plot->graph(1)->data()->at(n)->value, static_cast<double>(steps[i].memory.kv_full_bytes) / kMiB);
        evicted = evicted || steps[i].memory.kv_bytes < steps[i].memory.kv_full_bytes;
    }
    QVERIFY2(evicted, "the window should have evicted positions by the last step");
    // The axes cover the data: every step and the largest value.
    QVERIFY(plot->xAxis->range().contains(steps.front().step) && plot->xAxis->range().contains(steps.back().step));
    QVERIFY(plot->yAxis->range().upper >= static_cast<double>(steps.back().memory.kv_full_bytes) / kMiB);
    QCOMPARE(panel.plotNames(), (QStringList{"memory", "device", "speed", "quality"}));
    QVERIFY(panel.plotByName("nonsense") == nullptr);
}

void PlotsPanelTest::devicePlotSaysHostMemoryOnCpu() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto steps = run_session(model, false, 3);
    QVERIFY(steps[0].memory.device_is_host);
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("device");
    auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
    QVERIFY(title != nullptr && title->text().contains("host memory (CPU backend)"));
    QCOMPARE(plot->yAxis->label(), QStringLiteral("GiB"));
    QCOMPARE(plot->graph(0)->name(), QStringLiteral("host memory (RSS)"));
    QCOMPARE(plot->graph(0)->data()->at(2)->value, static_cast<double>(steps[2].memory.device_used) / kGiB);
    QCOMPARE(plot->graph(1)->data()->at(2)->value, static_cast<double>(steps[2].memory.device_total) / kGiB);
    QCOMPARE(plot->graph(2)->data()->at(2)->value, static_cast<double>(steps[2].memory.weights_bytes) / kGiB);
    QVERIFY(steps[2].memory.weights_bytes > 50ull * 1024 * 1024);  // SmolLM2-135M's weights (q8_0: 92 MiB)
    QVERIFY(panel.summaryText().contains("host memory " + kvscope::render::format_bytes(steps[2].memory.device_used)));
    QVERIFY(!panel.summaryText().contains("VRAM"));

    // The same figures from a GPU backend would be VRAM.
    for (auto& s : steps) s.memory.device_is_host = false;
    panel.setSteps(steps);
    QVERIFY(title->text().contains("VRAM"));
    panel.setDeviceName(QStringLiteral("CUDA 0 (NVIDIA H200)"));  // the trace header's backend
    QCOMPARE(title->text(), QStringLiteral("VRAM: CUDA 0 (NVIDIA H200)"));
    QCOMPARE(plot->graph(0)->name(), QStringLiteral("VRAM used"));
    QVERIFY(panel.summaryText().contains("VRAM "));
}

void PlotsPanelTest::speedPlotStacksTheTimings() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, true, 4);
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("speed");
    QCOMPARE(plot->graphCount(), 5);
    for (int i = 0; i < 4; ++i) {
        const auto& t = steps[static_cast<size_t>(i)].timings;
        // Step 0's token came from the prefill's logits; later steps run the model and its reference.
        if (i > 0) QVERIFY(t.forward_ms > 0 && t.reference_ms > 0);
        QCOMPARE(plot->graph(0)->data()->at(i)->value, t.forward_ms);
        const double total = t.policy_ms + t.forward_ms + t.capture_ms + t.sample_ms + t.reference_ms;
        QVERIFY(std::abs(plot->graph(4)->data()->at(i)->value - total) < 1e-9);
    }
}

void PlotsPanelTest::cursorMovesAndSummaryDescribesItsStep() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, true);
    PlotsPanel panel;
    panel.setSteps(steps);
    // By default the cursor follows the latest step.
    QCOMPARE(panel.cursorStep(), steps.back().step);
    for (int32_t at : {6, 9}) {
        panel.setCursorStep(at);
        panel.refreshNow();
        for (const QString& name : panel.plotNames()) {
            auto* cursor = item_named<QCPItemStraightLine>(panel.plotByName(name), "stepCursor");
            QVERIFY(cursor);
            QVERIFY(cursor->visible());
            QCOMPARE(cursor->point1->coords().x(), static_cast<double>(at));
            QCOMPARE(cursor->point2->coords().x(), static_cast<double>(at));
        }
        const kvscope::StepSnapshot& s = steps[static_cast<size_t>(at)];
        QCOMPARE(s.step, at);
        const QString summary = panel.summaryText();
        QCOMPARE(panel.findChild<QLabel*>("plotsSummary")->text(), summary);
        QVERIFY2(summary.startsWith(QStringLiteral("step %1 ").arg(at)), qPrintable(summary));
        // The percentage, computed here from the snapshot.
        const double change = 100.0 * (static_cast<double>(s.memory.kv_bytes) - static_cast<double>(s.memory.kv_full_bytes)) /
                              static_cast<double>(s.memory.kv_full_bytes);
        const long percent = std::lround(change);
        QVERIFY(percent < 0);
        const QString kv = QStringLiteral("KV %1 of %2 full (\u2212%3 %)")
                               .arg(kvscope::render::format_bytes(s.memory.kv_bytes),
                                    kvscope::render::format_bytes(s.memory.kv_full_bytes))
                               .arg(-percent);
        QVERIFY2(summary.contains(kv), qPrintable(summary + " / expected " + kv));
        const double ms = s.timings.policy_ms + s.timings.forward_ms + s.timings.capture_ms + s.timings.sample_ms +
                          s.timings.reference_ms;
        QVERIFY(summary.contains(QStringLiteral("%1 ms/token").arg(ms, 0, 'f', 1)));
        QVERIFY(summary.contains(QStringLiteral("KL %1").arg(s.reference->kl_full_policy, 0, 'f', 3)));
        int agree = 0;
        for (int i = 0; i <= at; ++i) agree += steps[static_cast<size_t>(i)].reference->top1_agrees ? 1 : 0;
        QVERIFY(summary.contains(QStringLiteral("top-1 %1 %").arg(std::lround(100.0 * agree / (at + 1)))));
    }
    // A step that was not recorded says so; a negative one follows the latest again.
    panel.setCursorStep(99);
    QVERIFY(panel.summaryText().contains("not recorded"));
    panel.setCursorStep(-1);
    QVERIFY(panel.summaryText().startsWith(QStringLiteral("step %1 ").arg(steps.back().step)));
    panel.setCursorStep(4);
    panel.clear();  // a Replay: the cursor follows the new run's steps
    panel.refreshNow();
    // No steps: the line tells a newcomer what to press.
    QVERIFY(panel.summaryText().startsWith(QStringLiteral("No steps yet")));
    QVERIFY(panel.summaryText().contains(QStringLiteral("Step (Space)")));
    QVERIFY(panel.summaryText().contains(QStringLiteral("Run (Enter)")));
    QCOMPARE(panel.cursorStep(), -1);
    QVERIFY(!item_named<QCPItemStraightLine>(panel.plotByName("memory"), "stepCursor")->visible());
}

void PlotsPanelTest::qualityPlotHoldsReferenceMetrics() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, true);
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("quality");
    QCOMPARE(plot->graphCount(), 4);
    QVERIFY(!item_named<QCPItemText>(plot, "referenceOffNote")->visible());
    int agree = 0;
    double kl_max = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
        const int n = static_cast<int>(i);
        const kvscope::ReferenceMetrics& r = *steps[i].reference;
        agree += r.top1_agrees ? 1 : 0;
        kl_max = std::max(kl_max, r.kl_full_policy);
        QCOMPARE(plot->graph(0)->data()->at(n)->value, r.kl_full_policy);
        QCOMPARE(plot->graph(1)->data()->at(n)->value, static_cast<double>(agree) / (n + 1));
        QCOMPARE(plot->graph(2)->data()->at(n)->value, r.attention_cosine);
        QCOMPARE(plot->graph(3)->data()->at(n)->value, r.evicted_attention_mass);
    }
    QVERIFY2(kl_max > 0, "evictions should make the policy differ from the full cache");
    // KL on the left axis, the fractions on the right.
    QCOMPARE(plot->graph(0)->valueAxis(), plot->yAxis);
    QCOMPARE(plot->graph(1)->valueAxis(), plot->yAxis2);
}

void PlotsPanelTest::withoutReferenceQualityPlotIsEmptyWithNote() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, false, 4);
    QVERIFY(!steps[0].reference.has_value());
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("quality");
    for (int g = 0; g < plot->graphCount(); ++g) QCOMPARE(plot->graph(g)->dataCount(), 0);
    auto* note = item_named<QCPItemText>(plot, "referenceOffNote");
    QVERIFY(note && note->visible());
    QCOMPARE(note->text(), QStringLiteral("reference run off"));
    QVERIFY(panel.summaryText().endsWith("reference run off"));
    QVERIFY(!plot->legend->visible());  // the note stands in its place
    QCOMPARE(panel.plotByName("memory")->graph(0)->dataCount(), 4);  // the other plots are drawn
}

void PlotsPanelTest::qualityPlotBreaksAtStepsWithoutReference() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto steps = run_session(model, true);
    // The reference run off for steps 0-1 (before any reference step) and
    // 4-6 (a gap between reference steps).
    const std::vector<size_t> leading = {0, 1}, gap = {4, 5, 6};
    for (size_t i : leading) steps[i].reference.reset();
    for (size_t i : gap) steps[i].reference.reset();
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("quality");
    QVERIFY(!item_named<QCPItemText>(plot, "referenceOffNote")->visible());
    QVERIFY(plot->legend->visible());
    // Steps 0-1: no point (nothing to break yet); 2-3 and 7-9: the metrics;
    // 4-6: a NaN point in every graph, so no line joins step 3 to step 7.
    for (int g = 0; g < plot->graphCount(); ++g) QCOMPARE(plot->graph(g)->dataCount(), 8);
    int agree = 0, reference_steps = 0;
    for (size_t i = 2; i < steps.size(); ++i) {
        const int n = static_cast<int>(i) - 2;
        for (int g = 0; g < plot->graphCount(); ++g)
            QCOMPARE(plot->graph(g)->data()->at(n)->key, static_cast<double>(steps[i].step));
        if (!steps[i].reference) {
            for (int g = 0; g < plot->graphCount(); ++g)
                QVERIFY2(std::isnan(plot->graph(g)->data()->at(n)->value), qPrintable(QString::number(i)));
            continue;
        }
        const kvscope::ReferenceMetrics& r = *steps[i].reference;
        ++reference_steps;
        agree += r.top1_agrees ? 1 : 0;
        QCOMPARE(plot->graph(0)->data()->at(n)->value, r.kl_full_policy);
        QCOMPARE(plot->graph(1)->data()->at(n)->value, static_cast<double>(agree) / reference_steps);
        QCOMPARE(plot->graph(2)->data()->at(n)->value, r.attention_cosine);
        QCOMPARE(plot->graph(3)->data()->at(n)->value, r.evicted_attention_mass);
    }
    QCOMPARE(reference_steps, 5);

    // Rewinding to step 2 leaves no reference step: the note comes back.
    kvscope::StepSnapshot again = steps[0];
    again.step = 2;
    panel.appendStep(again);
    panel.refreshNow();
    QVERIFY(item_named<QCPItemText>(plot, "referenceOffNote")->visible());
    for (int g = 0; g < plot->graphCount(); ++g) QCOMPARE(plot->graph(g)->dataCount(), 0);
}

void PlotsPanelTest::infiniteKlLeavesAFiniteAxisRange() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto steps = run_session(model, true);
    // The policy gave the full cache's token zero probability at step 3.
    steps[3].reference->kl_full_policy = std::numeric_limits<double>::infinity();
    PlotsPanel panel;
    panel.setSteps(steps);
    QCustomPlot* plot = panel.plotByName("quality");
    double kl_max = 0;
    for (const auto& s : steps)
        if (std::isfinite(s.reference->kl_full_policy)) kl_max = std::max(kl_max, s.reference->kl_full_policy);
    QVERIFY2(kl_max > 0, "evictions should make the policy differ from the full cache");
    // The axis follows the finite values (an infinite range would be refused
    // by QCustomPlot and leave the axis where it was).
    QVERIFY(std::isfinite(plot->yAxis->range().upper));
    QCOMPARE(plot->yAxis->range().lower, 0.0);
    QCOMPARE(plot->yAxis->range().upper, kl_max * 1.1);
    // The infinite point is a break in the KL line; the other lines go on.
    QVERIFY(std::isnan(plot->graph(0)->data()->at(3)->value));
    QCOMPARE(plot->graph(2)->data()->at(3)->value, steps[3].reference->attention_cosine);
    // The summary gives the value.
    panel.setCursorStep(3);
    QVERIFY2(panel.summaryText().contains("KL inf"), qPrintable(panel.summaryText()));

    // A larger KL later still moves the axis.
    kvscope::StepSnapshot later = steps[9];
    later.step = 10;
    later.reference->kl_full_policy = 4 * kl_max;
    panel.appendStep(later);
    panel.refreshNow();
    QCOMPARE(plot->yAxis->range().upper, 4 * kl_max * 1.1);
}

void PlotsPanelTest::percentOfAHugeCacheDoesNotOverflow() {
    using kvscope::gui::kMaxKvChangePercent;
    using kvscope::gui::kv_change_percent;
    using kvscope::gui::signed_percent;
    constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();
    // 100 · (2^64 − 2) would overflow lround's long and the int: clamped.
    QCOMPARE(kv_change_percent(kHuge, 1), kMaxKvChangePercent);
    QCOMPARE(kv_change_percent(kHuge, kHuge / 4), 300);
    QCOMPARE(kv_change_percent(0, kHuge), -100);
    QCOMPARE(kv_change_percent(5, 0), 0);
    QCOMPARE(kv_change_percent(13, 100), -87);
    QCOMPARE(signed_percent(std::numeric_limits<int>::min()), QStringLiteral("\u22122147483648 %"));
    QCOMPARE(signed_percent(std::numeric_limits<int>::max()), QStringLiteral("+2147483647 %"));

    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto steps = run_session(model, false, 1);
    steps[0].memory.kv_bytes = kHuge;
    steps[0].memory.kv_full_bytes = 1;
    PlotsPanel panel;
    panel.setSteps(steps);
    const QString summary = panel.summaryText();
    QVERIFY2(summary.contains(QStringLiteral("(\u2265 +1000000 %)")), qPrintable(summary));
    QVERIFY(std::isfinite(panel.plotByName("memory")->yAxis->range().upper));
}

void PlotsPanelTest::appendingIsCoalescedAndRewindReplaces() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, true);
    PlotsPanel panel;
    panel.resize(1200, 300);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    int replots = 0;
    for (const QString& name : panel.plotNames())
        connect(panel.plotByName(name), &QCustomPlot::afterReplot, this, [&replots] { ++replots; });
    // The replots queued by the constructor and the first show are drawn now.
    QCoreApplication::processEvents();
    replots = 0;

    // 5000 steps (the real ones, renumbered) appended without returning to the event loop.
    constexpr int kSteps = 5000;
    for (int i = 0; i < kSteps; ++i) {
        kvscope::StepSnapshot s = steps[static_cast<size_t>(i) % steps.size()];
        s.step = i;
        panel.appendStep(s);
    }
    QCOMPARE(replots, 0);  // nothing drawn while appending
    // The coalescing timer draws each plot once for all 5000 steps ...
    QTRY_COMPARE(replots, 4);
    // ... and nothing more is pending.
    QCoreApplication::processEvents();
    QCOMPARE(replots, 4);
    QCOMPARE(panel.plotByName("memory")->graph(0)->dataCount(), kSteps);
    QCOMPARE(panel.cursorStep(), kSteps - 1);

    // A step number seen before rewinds: it and the later ones are replaced.
    kvscope::StepSnapshot again = steps[2];
    again.step = 100;
    panel.appendStep(again);
    QCOMPARE(panel.stepCount(), 101);
    QCOMPARE(panel.plotByName("memory")->graph(0)->dataCount(), 101);
    QCOMPARE(panel.plotByName("memory")->graph(0)->data()->at(100)->value,
             static_cast<double>(steps[2].memory.kv_bytes) / kMiB);
    panel.refreshNow();
    QVERIFY(panel.plotByName("memory")->xAxis->range().upper < 110);
    QVERIFY(panel.summaryText().startsWith("step 100 "));
}

void PlotsPanelTest::exportsPngAndPdfAtomically() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const auto steps = run_session(model, true, 5);
    PlotsPanel panel;
    panel.setSteps(steps);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const QString& name : panel.plotNames()) {
        const QString png = dir.filePath(name + ".png");
        QCOMPARE(panel.exportPlot(name, png), QString());
        const QByteArray bytes = read_all(png);
        QVERIFY(bytes.startsWith("\x89PNG\r\n\x1a\n"));
        QVERIFY2(bytes.size() > 5000, qPrintable(QString::number(bytes.size())));
        QImage image;
        QVERIFY(image.loadFromData(bytes, "PNG"));
        QCOMPARE(image.size(), QSize(900, 500));
    }
    const QString pdf = dir.filePath("memory.PDF");
    QCOMPARE(panel.exportPlot("memory", pdf), QString());
    const QByteArray pdf_bytes = read_all(pdf);
    QVERIFY(pdf_bytes.startsWith("%PDF-"));
    QVERIFY(pdf_bytes.size() > 1000);

    // Errors, and no file left behind.
    const QString unwritable = dir.filePath("missing-folder/memory.png");
    const QString error = panel.exportPlot("memory", unwritable);
    QVERIFY2(!error.isEmpty() && error.contains("missing-folder"), qPrintable(error));
    QVERIFY(!QFile::exists(unwritable));
    QVERIFY(!panel.exportPlot("memory", dir.filePath("memory.bmp")).isEmpty());
    QVERIFY(!QFile::exists(dir.filePath("memory.bmp")));
    QVERIFY(panel.exportPlot("nope", dir.filePath("nope.png")).contains("unknown plot"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 5);  // 4 PNG + 1 PDF, no temporaries
}

QTEST_MAIN(PlotsPanelTest)
#include "plots_panel_test.moc"
