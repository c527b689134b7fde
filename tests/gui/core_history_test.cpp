// SessionHistory's heatmap matrix when the layer or heads change: small runs
// get it at once; big ones (>= kSyncMatrixRows rows) get it from a worker
// thread, equal cell for cell to the one built on the spot, with the rows that
// arrived during the build appended once; a superseded request never lands.
// Synthetic traces of SmolLM2's shape (tests/gui/synthetic_trace.h), no model.
#include <QtTest>

#include <QSignalSpy>

#include <cstring>
#include <memory>

#include "core/session_history.h"
#include "synthetic_trace.h"

using namespace kvscope;
using namespace kvscope::gui;
using namespace kvscope::test;

namespace {

// Whether a and b hold the same rows, cells, marks and pyramid (bit for bit).
QString difference(const AttentionMatrix& a, const AttentionMatrix& b) {
    if (a.rows() != b.rows()) return QString("rows %1 vs %2").arg(a.rows()).arg(b.rows());
    for (int32_t r = 0; r < a.rows(); ++r) {
        if (a.query_position(r) != b.query_position(r)) return QString("row %1: query position").arg(r);
        if (a.window_start(r) != b.window_start(r)) return QString("row %1: window start").arg(r);
        if (std::memcmp(a.row_cells(r), b.row_cells(r), sizeof(float) * static_cast<size_t>(a.row_length(r))) != 0)
            return QString("row %1: cells").arg(r);
    }
    if (a.sink_columns() != b.sink_columns() || a.sink_spans() != b.sink_spans()) return "sinks";
    if (a.global_columns() != b.global_columns() || a.global_spans() != b.global_spans()) return "globals";
    if (a.pyramid().size() != b.pyramid().size()) return "pyramid levels";
    for (size_t i = 0; i < a.pyramid().size(); ++i)
        if (a.pyramid()[i].rows != b.pyramid()[i].rows) return QString("pyramid level %1").arg(i);
    return {};
}

// A live run as the controller feeds it: the decoder stores each snapshot in
// the trace, then the history records it.
struct LiveRun {
    SyntheticRun run;
    SharedTracePtr trace;
    SessionHistory history;
    int32_t steps = 0;

    explicit LiveRun(const SyntheticRun& r) : run(r) {
        trace = std::make_shared<SharedTrace>(Trace(synthetic_header(run)));
        const StepSnapshot prefill = synthetic_snapshot(run, -1);
        trace->trace.set_prefill(prefill);
        history.begin(trace);
        history.addPrefill(std::make_shared<const StepSnapshot>(prefill));
    }
    void step(int32_t n) {
        for (int32_t i = 0; i < n; ++i, ++steps) {
            const StepSnapshot s = synthetic_snapshot(run, steps);
            {
                std::lock_guard<std::mutex> lock(trace->mutex);
                trace->trace.add(s);
            }
            history.addStep(std::make_shared<const StepSnapshot>(s));
        }
    }
};

SyntheticRun small_model() {
    SyntheticRun r;
    r.n_layer = 6;
    r.prompt = 40;
    r.window = 64;
    return r;
}

// The matrix of (layer, heads) built on the spot from the same trace.
AttentionMatrix built_here(const SharedTracePtr& trace, int32_t layer, const HeadSelection& heads) {
    SessionHistory h;
    h.open(trace);
    return h.matrix(layer, heads);
}

}  // namespace

class CoreHistoryTest : public QObject {
    Q_OBJECT
private slots:
    // Below kSyncMatrixRows rows the matrix comes at once, as before.
    void smallMatricesAreBuiltAtOnce() {
        LiveRun live(small_model());
        live.step(100);
        QVERIFY(live.history.rowsAt(live.history.entries() - 1) < SessionHistory::kSyncMatrixRows);
        QVERIFY(live.history.requestMatrix(2, {HeadReduce::Head, 3}));
        QVERIFY(!live.history.matrixPending());
        QCOMPARE(live.history.matrixLayer(), 2);
        QCOMPARE(difference(live.history.matrix(), built_here(live.trace, 2, {HeadReduce::Head, 3})), QString());
    }

    // The background build equals the build on the spot, including the rows of
    // the steps recorded while it ran (appended once: none lost, none twice);
    // meanwhile the previous selection's matrix stays shown and keeps growing.
    void backgroundBuildEqualsTheSynchronousOne() {
        LiveRun live(small_model());
        live.step(700);
        SessionHistory& h = live.history;
        QVERIFY(h.rowsAt(h.entries() - 1) >= SessionHistory::kSyncMatrixRows);
        h.matrix(0, {HeadReduce::Mean, 0});  // the one shown before the switch

        QSignalSpy ready(&h, &SessionHistory::matrixReady);
        const HeadSelection group{HeadReduce::KvGroup, 1};
        QVERIFY(!h.requestMatrix(3, group));  // big: built in the background
        QVERIFY(h.matrixPending());
        live.step(25);  // steps arrive during the build (before it can be installed)
        QCOMPARE(h.matrixLayer(), 0);  // the old matrix is still the one shown...
        QCOMPARE(h.matrix().rows(), h.rowsAt(h.entries() - 1));  // ...and it kept up
        QVERIFY(ready.wait(20000));
        QCOMPARE(ready.count(), 1);
        QCOMPARE(ready.at(0).at(0).toString(), QString());
        QVERIFY(!h.matrixPending());
        QCOMPARE(h.matrixLayer(), 3);
        QVERIFY(h.matrixHeads() == group);
        QCOMPARE(h.matrix().rows(), h.rowsAt(h.entries() - 1));
        QCOMPARE(difference(h.matrix(), built_here(live.trace, 3, group)), QString());
        // Steps after the install are appended live, as before (from the
        // snapshots, so unquantised: only their places are compared).
        live.step(5);
        QCOMPARE(h.matrix().rows(), h.rowsAt(h.entries() - 1));
        const AttentionMatrix again = built_here(live.trace, 3, group);
        for (int32_t r = 0; r < again.rows(); ++r) QCOMPARE(h.matrix().query_position(r), again.query_position(r));
    }

    // A newer request supersedes a pending one: only the newest is installed,
    // once; going back to the shown selection cancels the build; forgetting
    // the run drops a build in flight.
    void aSupersededRequestIsNeverInstalled() {
        LiveRun live(small_model());
        live.step(700);
        SessionHistory& h = live.history;
        h.matrix(0, {HeadReduce::Mean, 0});
        QSignalSpy ready(&h, &SessionHistory::matrixReady);

        QVERIFY(!h.requestMatrix(1, {HeadReduce::Max, 0}));
        QVERIFY(!h.requestMatrix(4, {HeadReduce::Head, 7}));
        QVERIFY(!h.requestMatrix(4, {HeadReduce::Head, 7}));  // the same again: still the one on its way
        QVERIFY(ready.wait(20000));
        QTest::qWait(300);  // time for a stray result of the first request to arrive
        QCOMPARE(ready.count(), 1);
        QCOMPARE(h.matrixLayer(), 4);
        QCOMPARE(difference(h.matrix(), built_here(live.trace, 4, {HeadReduce::Head, 7})), QString());

        // Away and straight back: nothing to build, nothing installed later.
        const uint64_t generation = h.matrix().generation();
        QVERIFY(!h.requestMatrix(5, {HeadReduce::Mean, 0}));
        QVERIFY(h.requestMatrix(4, {HeadReduce::Head, 7}));
        QVERIFY(!h.matrixPending());
        QTest::qWait(500);
        QCOMPARE(ready.count(), 1);
        QCOMPARE(h.matrixLayer(), 4);
        QCOMPARE(h.matrix().generation(), generation);

        // A build in flight when the run is forgotten never lands on the next run.
        QVERIFY(!h.requestMatrix(2, {HeadReduce::Mean, 0}));
        h.clear();
        QVERIFY(!h.matrixPending());
        QTest::qWait(500);
        QCOMPARE(ready.count(), 1);
        QCOMPARE(h.matrixLayer(), -1);
        QCOMPARE(h.matrix().rows(), 0);
    }

    // An opened file (every entry at once) goes the same way.
    void anOpenedTraceIsBuiltInTheBackground() {
        const SyntheticRun run = small_model();
        const SharedTracePtr trace = synthetic_trace(run, 800);
        SessionHistory h;
        h.open(trace);
        QVERIFY(!h.requestMatrix(5, {HeadReduce::Max, 0}));
        QVERIFY(QTest::qWaitFor([&] { return !h.matrixPending(); }, 20000));
        QCOMPARE(h.matrix().rows(), run.rows_after(800));
        QCOMPARE(difference(h.matrix(), built_here(trace, 5, {HeadReduce::Max, 0})), QString());
    }
};

QTEST_MAIN(CoreHistoryTest)
#include "core_history_test.moc"
