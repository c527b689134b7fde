// KvStripView against real SmolLM2 sessions: the drawn slot map is the engine's.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <QElapsedTimer>
#include <QHelpEvent>
#include <QRegularExpression>
#include <QToolTip>

#include <algorithm>
#include <limits>

#include "cacheviews/kv_strip_view.h"
#include "cacheviews/role_colors.h"
#include "cacheviews/token_display.h"
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
    void fullCacheDrawsPooledThinBars();
    void exportPngIsAtomic();
    void inconsistentViewsAreRefused();
    void hoverNamesTheSlotDrawnUnderThePointer();
    void thinBarHoverNamesTheDrawnSlot();
    void emptyCapacityAndNoLayers();
    void slotsPastCapacityAreMarked();
    void localLayersAreNamed();
    void hugeCapacityFewHeldSlots();
    void labelsShowSplitBytesEscaped();
    void failedExportLeavesTheOldFile();
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

void CacheviewsStripTest::fullCacheDrawsPooledThinBars() {
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
    view.setCacheViews(rec.steps.back().layers, [&](int32_t p) { return kvscope::test::piece_at(*rec.session, p); });
    const QSize shown(700, std::max(400, view.sizeHint().height()));  // the export is never smaller than the hint
    view.resize(shown);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("strip.png"));
    QCOMPARE(view.exportPng(path), QString());
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.read(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
    f.close();
    const QImage back(path);
    QCOMPARE(back.size(), shown * view.devicePixelRatioF());
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
    // The reason is painted instead of the strip: text on the background, no legend, no slot.
    const QImage refused = view.grab().toImage();
    QVERIFY(kvscope::test::has_several_colours(refused));
    QVERIFY(!kvscope::test::contains_colour(refused, kvscope::gui::roleColor(kvscope::SlotRole::Sink)));

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

namespace {

kvscope::LayerCacheView syntheticLayer(int32_t capacity, std::vector<int32_t> held_at, int32_t next_slot) {
    kvscope::LayerCacheView v;
    v.capacity = capacity;
    v.next_slot = next_slot;
    for (size_t i = 0; i < held_at.size(); ++i) {
        v.held_positions.push_back(static_cast<int32_t>(i));
        v.held_slots.push_back(held_at[i]);
        v.held_roles.push_back(i < 2 ? kvscope::SlotRole::Sink : kvscope::SlotRole::Window);
    }
    return v;
}

}  // namespace

void CacheviewsStripTest::hoverNamesTheSlotDrawnUnderThePointer() {
    // 256 slots at about 2-3 px each: slotX rounds down, so a pixel-to-slot
    // formula that is not its exact inverse names the neighbour at some edges.
    std::vector<int32_t> held_at(200);
    for (int32_t i = 0; i < 200; ++i) held_at[static_cast<size_t>(i)] = i;
    const std::vector<kvscope::LayerCacheView> layers(3, syntheticLayer(256, held_at, 200));
    int checked = 0;
    for (const int width : {640, 700, 777, 812, 1000, 1313}) {
        KvStripView view;
        view.resize(width, 300);
        view.setCacheViews(layers, [](int32_t p) { return std::to_string(p); });
        QVERIFY(view.slotRect(1, 0).width() >= 2);  // one rectangle per slot here
        for (int32_t s = 0; s < 256; ++s) {
            const QRect r = view.slotRect(1, s);
            for (const int x : {r.left(), r.right()}) {
                const QString tip = view.toolTipTextAt(QPoint(x, r.center().y()));
                QVERIFY2(tip.contains(QStringLiteral("\nslot %1:").arg(s)),
                         qPrintable(QStringLiteral("width %1 slot %2 x %3: %4").arg(width).arg(s).arg(x).arg(tip)));
                ++checked;
            }
        }
        QVERIFY(view.toolTipTextAt(QPoint(view.slotRect(1, 5).center().x(), view.rowRect(1).center().y()))
                    .contains(QStringLiteral("position 5 “5”, window")));
        QVERIFY(view.toolTipTextAt(view.slotRect(1, 230).center()).contains(QStringLiteral("slot 230: empty")));
    }
    QCOMPARE(checked, 6 * 256 * 2);
    // The real tooltip event shows that text.
    KvStripView view;
    view.resize(700, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setCacheViews(layers, {});
    const QPoint at = view.slotRect(0, 1).center();
    QHelpEvent help(QEvent::ToolTip, at, view.mapToGlobal(at));
    QApplication::sendEvent(&view, &help);
    QCOMPARE(QToolTip::text(), view.toolTipTextAt(at));
    QVERIFY(QToolTip::text().contains(QStringLiteral("slot 1: position 1")));
}

void CacheviewsStripTest::thinBarHoverNamesTheDrawnSlot() {
    // 4,096 slots in a few hundred pixels: each column pools several slots.
    const kvscope::LayerCacheView v = syntheticLayer(4096, {0, 1, 2000, 2001, 2002, 4095}, 7);
    KvStripView view;
    view.resize(700, 200);
    view.setCacheViews({v}, [](int32_t p) { return std::to_string(p); });
    QVERIFY(view.slotRect(0, 1).width() <= 1);
    const QRegularExpression range(QStringLiteral("slots (\\d+)–(\\d+) share this pixel"));
    for (const int32_t s : {0, 1, 7, 1000, 2000, 2001, 3000, 4095}) {
        const QRect r = view.slotRect(0, s);
        const QString tip = view.toolTipTextAt(QPoint(r.left(), r.center().y()));
        const auto m = range.match(tip);
        QVERIFY2(m.hasMatch(), qPrintable(tip));
        QVERIFY2(m.captured(1).toInt() <= s && s <= m.captured(2).toInt(), qPrintable(QStringLiteral("%1: %2").arg(s).arg(tip)));
    }
    // The column of slot 0 draws the sink (it outranks the window slot beside it).
    QVERIFY(view.toolTipTextAt(view.slotRect(0, 0).center()).contains(QStringLiteral("drawn: slot 0: position 0 “0”, sink")));
    QVERIFY(view.toolTipTextAt(view.slotRect(0, 3000).center()).contains(QStringLiteral("all empty")));
}

void CacheviewsStripTest::emptyCapacityAndNoLayers() {
    KvStripView view;
    view.resize(600, 300);
    view.setCacheViews({}, {});  // 0 layers
    QVERIFY(view.lastError().isEmpty());
    QVERIFY(view.rowRect(0).isEmpty());
    QVERIFY(view.slotRect(0, 0).isEmpty());
    QCOMPARE(view.toolTipTextAt(QPoint(300, 100)), QString());
    // The legend is still drawn (its sink and empty-slot swatches are there).
    const QImage none = view.grab().toImage();
    QVERIFY(kvscope::test::contains_colour(none, kvscope::gui::roleColor(kvscope::SlotRole::Sink)));
    QVERIFY(kvscope::test::contains_colour(none, kvscope::gui::kEmptySlotColor));

    const kvscope::LayerCacheView empty = syntheticLayer(0, {}, -1);  // capacity 0, nothing held
    view.setCacheViews({empty, empty}, {});
    QVERIFY(view.lastError().isEmpty());
    QVERIFY(!view.rowRect(1).isEmpty());
    QVERIFY(view.slotRect(1, 0).isEmpty());
    QVERIFY(view.writePointerRect(1).isEmpty());
    const QImage img = view.grab().toImage();
    // The row is background only, and its tooltip is the summary.
    const QRect row = view.rowRect(1);
    QCOMPARE(pixelAt(img, QPoint(row.center().x(), row.center().y())), kvscope::gui::kViewBackground);
    const QString tip = view.toolTipTextAt(row.center());
    QVERIFY2(tip.startsWith(QStringLiteral("layer 1 — 0 held / capacity 0")), qPrintable(tip));
    QVERIFY2(tip.endsWith(QStringLiteral("no write pointer")), qPrintable(tip));  // no slot to describe
}

void CacheviewsStripTest::slotsPastCapacityAreMarked() {
    // A window shrunk from 8 to 4 slots: slot 6 still holds a position, slot 5 is past the capacity.
    const kvscope::LayerCacheView v = syntheticLayer(4, {0, 6}, 1);
    KvStripView view;
    view.resize(600, 200);
    view.setCacheViews({v}, {});
    QVERIFY(view.lastError().isEmpty());
    QImage img = view.grab().toImage();
    QCOMPARE(pixelAt(img, view.slotRect(0, 3).center()), kvscope::gui::kEmptySlotColor);
    QCOMPARE(pixelAt(img, view.slotRect(0, 5).center()), kvscope::gui::kBeyondCapacityColor);
    QCOMPARE(pixelAt(img, view.slotRect(0, 6).center()), kvscope::gui::roleColor(kvscope::SlotRole::Sink));
    QVERIFY(view.toolTipTextAt(view.slotRect(0, 5).center()).contains(QStringLiteral("past the capacity")));
    // The same on a pooled thin bar.
    const kvscope::LayerCacheView thin = syntheticLayer(100, {0, 5000}, 1);
    view.setCacheViews({thin}, {});
    QVERIFY(view.slotRect(0, 1).width() <= 1);
    img = view.grab().toImage();
    QCOMPARE(pixelAt(img, view.slotRect(0, 50).center()), kvscope::gui::kEmptySlotColor);
    QCOMPARE(pixelAt(img, view.slotRect(0, 3000).center()), kvscope::gui::kBeyondCapacityColor);
    QCOMPARE(pixelAt(img, view.slotRect(0, 5000).center()), kvscope::gui::roleColor(kvscope::SlotRole::Sink));
}

void CacheviewsStripTest::localLayersAreNamed() {
    // Layer 0 has the model's own 8-slot window (a gemma3 local layer), layer 1 none.
    kvscope::LayerCacheView local = syntheticLayer(8, {0, 1, 2}, 3);
    local.native_window = 8;
    const kvscope::LayerCacheView global = syntheticLayer(32, {0, 1, 2}, 3);
    KvStripView view;
    view.resize(600, 200);
    view.setCacheViews({local, global}, {});
    QVERIFY(view.lastError().isEmpty());
    const QString local_tip = view.toolTipTextAt(view.slotRect(0, 1).center());
    QVERIFY2(local_tip.contains(QStringLiteral("layer 0 (local: the model's own 8-token window)")), qPrintable(local_tip));
    QVERIFY(!view.toolTipTextAt(view.slotRect(1, 1).center()).contains(QStringLiteral("local")));
    // The label of the local layer is drawn in its own colour, the other's not.
    const QImage img = view.grab().toImage();
    const auto labelHasColour = [&](int32_t layer, const QColor& colour) {
        const QRect row = view.rowRect(layer);
        for (int x = 0; x < view.slotRect(layer, 0).left(); ++x)
            for (int y = row.top(); y <= row.bottom(); ++y)
                if (pixelAt(img, QPoint(x, y)) == colour) return true;
        return false;
    };
    QVERIFY(labelHasColour(0, kvscope::gui::kLocalLayerLabelColor));
    QVERIFY(!labelHasColour(1, kvscope::gui::kLocalLayerLabelColor));
    // A window past any slot index is refused like any other corrupt view.
    local.native_window = -1;
    view.setCacheViews({local}, {});
    QVERIFY(view.lastError().contains(QStringLiteral("native window")));
}

void CacheviewsStripTest::hugeCapacityFewHeldSlots() {
    // A full cache of n_ctx = 131072 on 30 layers, 20 positions held each: the
    // strip stores and draws the held slots, not 4M per-slot entries.
    std::vector<int32_t> held_at = {0, 1};
    for (int32_t i = 0; i < 18; ++i) held_at.push_back(100000 + i);
    const std::vector<kvscope::LayerCacheView> layers(30, syntheticLayer(131072, held_at, 120000));
    KvStripView view;
    view.resize(1000, 600);
    QElapsedTimer timer;
    timer.start();
    view.setCacheViews(layers, [](int32_t p) { return std::to_string(p); });
    const QImage img = view.grab().toImage();
    qDebug() << "30 x 131072 slots, 20 held: set + paint" << timer.elapsed() << "ms";
    QVERIFY(view.lastError().isEmpty());
    for (const int32_t l : {0, 14, 29}) {
        QCOMPARE(pixelAt(img, view.slotRect(l, 0).center()), kvscope::gui::roleColor(kvscope::SlotRole::Sink));
        QCOMPARE(pixelAt(img, view.slotRect(l, 100005).center()), kvscope::gui::roleColor(kvscope::SlotRole::Window));
        QCOMPARE(pixelAt(img, view.slotRect(l, 60000).center()), kvscope::gui::kEmptySlotColor);
    }
}

void CacheviewsStripTest::labelsShowSplitBytesEscaped() {
    using kvscope::gui::tokenPieceLabel;
    QCOMPARE(tokenPieceLabel("caf\xC3\xA9"), QString::fromUtf8("café"));
    QCOMPARE(tokenPieceLabel("\xF0\x9F\x98\x80!"), QString::fromUtf8("\xF0\x9F\x98\x80!"));
    QCOMPARE(tokenPieceLabel("\xE6"), QStringLiteral("\\xE6"));              // first byte of 日
    QCOMPARE(tokenPieceLabel("\x97\xA5 x"), QStringLiteral("\\x97\\xA5 x"));  // its last two
    QCOMPARE(tokenPieceLabel("\xC0\x80"), QStringLiteral("\\xC0\\x80"));     // overlong: invalid
    QCOMPARE(tokenPieceLabel("\xEF\xBF\xBD"), QString(QChar::ReplacementCharacter));  // a real U+FFFD stays
    QCOMPARE(tokenPieceLabel(""), QString());
    // In the strip: no replacement character for a piece of a split character.
    const kvscope::LayerCacheView v = syntheticLayer(8, {0, 1, 2}, 3);
    KvStripView view;
    view.resize(700, 200);
    view.setCacheViews({v}, [](int32_t p) -> std::string { return p == 1 ? "\xE6\x97" : p == 2 ? "\xA5" : "a"; });
    const QString tip1 = view.toolTipTextAt(view.slotRect(0, 1).center());
    QVERIFY2(tip1.contains(QStringLiteral("position 1 “\\xE6\\x97”")), qPrintable(tip1));
    QVERIFY(!tip1.contains(QChar::ReplacementCharacter));
    QVERIFY(view.toolTipTextAt(view.slotRect(0, 2).center()).contains(QStringLiteral("“\\xA5”")));
}

void CacheviewsStripTest::failedExportLeavesTheOldFile() {
    KvStripView view;
    view.resize(500, 200);
    view.setCacheViews({syntheticLayer(8, {0, 1, 2}, 3)}, {});
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // A 254-character name: allowed, but the temporary file beside it (name +
    // a random suffix) is too long, so the write fails even for root.
    const QString path = dir.filePath(QString(250, QLatin1Char('s')) + QStringLiteral(".png"));
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("old contents");
    }
    const QString err = view.exportPng(path);
    QVERIFY2(!err.isEmpty(), "the export was expected to fail");
    QVERIFY2(err.contains(path), qPrintable(err));
    QFile old(path);
    QVERIFY(old.open(QIODevice::ReadOnly));
    QCOMPARE(old.readAll(), QByteArray("old contents"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);  // no temporary left
    // A normal name in the same directory replaces an old file.
    const QString ok = dir.filePath(QStringLiteral("strip.png"));
    QFile::copy(path, ok);
    QCOMPARE(view.exportPng(ok), QString());
    // At least the size hint, so every row comes out whole (500 x 200 on screen).
    const QSize expected(std::max(500, view.sizeHint().width()), std::max(200, view.sizeHint().height()));
    QCOMPARE(QImage(ok).size(), expected * view.devicePixelRatioF());
    // With a caption: a line above the strip.
    QCOMPARE(view.exportPng(ok, QStringLiteral("SmolLM2 · sinks(4)+window(16) · step 3")), QString());
    QVERIFY(QImage(ok).height() > expected.height() * view.devicePixelRatioF());
}

QTEST_MAIN(CacheviewsStripTest)
#include "cacheviews_strip_test.moc"
