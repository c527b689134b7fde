// KvStripView against real SmolLM2 sessions: the drawn slot map is the engine's.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

#include "cacheviews/kv_strip_view.h"
#include "cacheviews/role_colors.h"
#include "cacheviews_test_session.h"
#include "gui_test_support.h"

using kvscope::gui::KvStripView;

namespace {

QColor pixelAt(const QImage& img, QPoint p) {
    const qreal dpr = img.devicePixelRatio();
    return img.pixelColor(QPoint(static_cast<int>(p.x() * dpr), static_cast<int>(p.y() * dpr)));
}

// Every held slot's centre shows its role colour; every other slot up to the
// capacity is empty; the write pointer sits at next_slot.
void checkSlotMap(const KvStripView& view, const QImage& img, const std::vector<kvscope::LayerCacheView>& layers) {
    for (size_t l = 0; l < layers.size(); ++l) {
        const kvscope::LayerCacheView& v = layers[l];
        const auto layer = static_cast<int32_t>(l);
        std::vector<bool> used(static_cast<size_t>(v.capacity), false);
        // On thin bars the write pointer may cover a neighbouring slot's centre: those are not sampled.
        const QRect wp = view.writePointerRect(layer);
        const auto underPointer = [&](const QRect& r) { return !wp.isEmpty() && r.center().x() >= wp.left() && r.center().x() <= wp.right(); };
        for (size_t i = 0; i < v.held_slots.size(); ++i) {
            const QRect r = view.slotRect(layer, v.held_slots[i]);
            QVERIFY2(!r.isEmpty(), qPrintable(QStringLiteral("layer %1 slot %2").arg(l).arg(v.held_slots[i])));
            if (!underPointer(r)) QCOMPARE(pixelAt(img, r.center()), kvscope::gui::roleColor(v.held_roles[i]));
            if (v.held_slots[i] < v.capacity) used[static_cast<size_t>(v.held_slots[i])] = true;
        }
        for (int32_t s = 0; s < v.capacity; ++s)
            if (!used[static_cast<size_t>(s)] && !underPointer(view.slotRect(layer, s)))
                QCOMPARE(pixelAt(img, view.slotRect(layer, s).center()), kvscope::gui::kEmptySlotColor);
        if (v.next_slot >= 0) {
            QCOMPARE(wp.left(), view.slotRect(layer, v.next_slot).left());
            QCOMPARE(pixelAt(img, QPoint(wp.left(), view.slotRect(layer, v.next_slot).center().y())),
                     kvscope::gui::kWritePointerColor);
        }
    }
}

}  // namespace

class CacheviewsStripTest : public QObject {
    Q_OBJECT
private slots:
    void sinksWindowSlotMapMatchesEngine();
    void globalPinsDrawnAsGlobal();
    void rowClickSelectsLayer();
    void fullCacheDrawsThinBarsFast();
    void exportPngIsAtomic();
    void inconsistentViewsAreRefused();
};

void CacheviewsStripTest::sinksWindowSlotMapMatchesEngine() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    // window 16 with 4 sinks: after ~11 steps the ring buffer wraps and evicts one position per step.
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 16);
    const kvscope::Session& session = *rec.session;
    KvStripView view;
    view.resize(1000, 520);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setSelectedLayer(2);

    int checked_evictions = 0;
    for (const kvscope::StepSnapshot& snap : rec.steps) {
        view.setCacheViews(snap.layers, [&](int32_t p) { return kvscope::test::piece_at(session, p); });
        QVERIFY(view.lastError().isEmpty());
        const QImage img = view.grab().toImage();
        checkSlotMap(view, img, snap.layers);
        if (QTest::currentTestFailed()) return;
        for (size_t l = 0; l < snap.layers.size(); ++l) {
            const auto layer = static_cast<int32_t>(l);
            for (const int32_t p : snap.layers[l].evicted) {
                // Evicted at this step: not held any more, and marked in red beside the row.
                QVERIFY(!std::binary_search(snap.layers[l].held_positions.begin(), snap.layers[l].held_positions.end(), p));
                const QRect mark = view.evictedMarkRect(layer, p);
                QVERIFY(!mark.isEmpty());
                QCOMPARE(pixelAt(img, mark.center()), kvscope::gui::kEvictedColor);
                ++checked_evictions;
            }
            if (snap.layers[l].evicted.empty()) QVERIFY(view.evictedMarkRect(layer, 0).isEmpty());
        }
    }
    // The wrap really happened: positions were evicted and the marks checked.
    QVERIFY(checked_evictions >= static_cast<int>(model.config().n_layer));
    // The sinks are the first 4 positions, in slots 0..3.
    const kvscope::LayerCacheView& last = rec.steps.back().layers[0];
    QCOMPARE(last.held_roles[0], kvscope::SlotRole::Sink);
    QCOMPARE(pixelAt(view.grab().toImage(), view.slotRect(0, last.held_slots[0]).center()),
             kvscope::gui::roleColor(kvscope::SlotRole::Sink));
}

void CacheviewsStripTest::globalPinsDrawnAsGlobal() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::global_policy(8, {1, 3}), 12);
    const kvscope::Session& session = *rec.session;
    KvStripView view;
    view.resize(900, 480);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const kvscope::StepSnapshot& snap = rec.steps.back();
    view.setCacheViews(snap.layers, [&](int32_t p) { return kvscope::test::piece_at(session, p); });
    const QImage img = view.grab().toImage();
    checkSlotMap(view, img, snap.layers);
    // Positions 1 and 3 are pinned: held long after the window moved on, drawn in the global colour.
    const kvscope::LayerCacheView& v = snap.layers[5];
    int pinned_seen = 0;
    for (size_t i = 0; i < v.held_positions.size(); ++i)
        if (v.held_positions[i] == 1 || v.held_positions[i] == 3) {
            QCOMPARE(v.held_roles[i], kvscope::SlotRole::Global);
            QCOMPARE(pixelAt(img, view.slotRect(5, v.held_slots[i]).center()),
                     kvscope::gui::roleColor(kvscope::SlotRole::Global));
            ++pinned_seen;
        }
    QCOMPARE(pinned_seen, 2);
}

void CacheviewsStripTest::rowClickSelectsLayer() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 3);
    KvStripView view;
    view.resize(800, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setCacheViews(rec.steps.back().layers, {});
    QSignalSpy spy(&view, &KvStripView::layerSelected);
    const QRect row7 = view.rowRect(7);
    QVERIFY(!row7.isEmpty());
    QTest::mouseClick(&view, Qt::LeftButton, {}, view.slotRect(7, 3).center());
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 7);
    QCOMPARE(view.selectedLayer(), 7);
    // The selected row is enlarged, the previously selected one (0) is thin again.
    QVERIFY(view.rowRect(7).height() > 2 * view.rowRect(0).height());
    // A click on the layer label also selects that row.
    QTest::mouseClick(&view, Qt::LeftButton, {}, QPoint(10, view.rowRect(20).center().y()));
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).toInt(), 20);
}

void CacheviewsStripTest::fullCacheDrawsThinBarsFast() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    // Full cache: capacity = n_ctx slots per layer. 256 slots are drawn one by
    // one (about 3 px each), 4096 as pooled thin bars (several slots per pixel).
    for (const int32_t n_ctx : {256, 4096}) {
        kvscope::PolicyConfig full;
        auto rec = kvscope::test::record_session(model, full, 2, "The capital of France is", false, n_ctx);
        const kvscope::StepSnapshot& snap = rec.steps.back();
        QCOMPARE(snap.layers[0].capacity, n_ctx);
        KvStripView view;
        view.resize(1000, 520);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setCacheViews(snap.layers, {});
        const QImage img = view.grab().toImage();
        if (n_ctx == 4096) {
            QVERIFY(view.slotRect(0, 1).width() <= 1);
            QCOMPARE(pixelAt(img, view.slotRect(3, 0).center()), kvscope::gui::roleColor(kvscope::SlotRole::Window));
        }
        // The held slots show the window colour, the rest is empty.
        checkSlotMap(view, img, snap.layers);
        if (QTest::currentTestFailed()) return;
        QCOMPARE(pixelAt(img, view.slotRect(3, n_ctx - 1).center()), kvscope::gui::kEmptySlotColor);
    }
}

void CacheviewsStripTest::exportPngIsAtomic() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 4);
    KvStripView view;
    view.resize(700, 400);
    view.setCacheViews(rec.steps.back().layers, [&](int32_t p) { return kvscope::test::piece_at(*rec.session, p); });
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("strip.png"));
    QCOMPARE(view.exportPng(path), QString());
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.read(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
    f.close();
    const QImage back(path);
    QCOMPARE(back.size(), QSize(700, 400) * view.devicePixelRatioF());
    // The exported image is the strip: slot 0 of layer 0 holds the first sink.
    const kvscope::LayerCacheView& v = rec.steps.back().layers[0];
    QCOMPARE(back.pixelColor(view.slotRect(0, v.held_slots[0]).center() * view.devicePixelRatioF()),
             kvscope::gui::roleColor(v.held_roles[0]));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("strip.png")});  // no temp left

    // Unwritable: a missing directory. An error, and no file.
    const QString bad = dir.filePath(QStringLiteral("missing/strip.png"));
    const QString err = view.exportPng(bad);
    QVERIFY(!err.isEmpty());
    QVERIFY(err.contains(bad));
    QVERIFY(!QFile::exists(bad));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("strip.png")});
}

void CacheviewsStripTest::inconsistentViewsAreRefused() {
    KvStripView view;
    view.resize(600, 300);
    kvscope::LayerCacheView v;
    v.capacity = 4;
    v.held_positions = {0, 1};
    v.held_slots = {0};  // one slot for two positions
    v.held_roles = {kvscope::SlotRole::Sink, kvscope::SlotRole::Window};
    view.setCacheViews({v}, {});
    QVERIFY(view.lastError().contains(QStringLiteral("layer 0")));
    QVERIFY(view.slotRect(0, 0).isEmpty());
    view.grab();  // paints the error, no crash

    v.held_slots = {2, 2};  // two positions in one slot
    view.setCacheViews({v}, {});
    QVERIFY(view.lastError().contains(QStringLiteral("slot 2")));

    v.held_slots = {0, 1};
    view.setCacheViews({v}, [](int32_t) -> std::string { throw std::runtime_error("no such token"); });
    QVERIFY(view.lastError().contains(QStringLiteral("no such token")));

    view.setCacheViews({v}, [](int32_t p) { return std::to_string(p); });
    QVERIFY(view.lastError().isEmpty());
    QVERIFY(!view.slotRect(0, 1).isEmpty());
}

QTEST_MAIN(CacheviewsStripTest)
#include "cacheviews_strip_test.moc"
