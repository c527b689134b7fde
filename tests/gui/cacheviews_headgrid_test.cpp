// HeadGridView against real attention rows: pooled values equal the engine's
// probabilities, pixels follow the colour map, clicks select a head.
#include <QSignalSpy>
#include <QtTest>

#include <cmath>
#include <limits>

#include "cacheviews/head_grid_view.h"
#include "cacheviews/role_colors.h"
#include "cacheviews_test_session.h"
#include "gui_test_support.h"
#include "render/colors.h"

using kvscope::gui::HeadGridView;

namespace {

// The rows the lead passes: the prompt's rows then each step's, the last `n` of them.
std::vector<kvscope::QueryAttention> recentRows(const kvscope::test::RecordedSession& rec, size_t n) {
    std::vector<kvscope::QueryAttention> rows = rec.session->prefill_snapshot().attention;
    for (const auto& s : rec.steps) rows.insert(rows.end(), s.attention.begin(), s.attention.end());
    if (rows.size() > n) rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(n));
    return rows;
}

QColor pixelAt(const QImage& img, QPointF p) {
    const qreal dpr = img.devicePixelRatio();
    return img.pixelColor(QPoint(static_cast<int>(p.x() * dpr), static_cast<int>(p.y() * dpr)));
}

bool near(const QColor& a, kvscope::render::Rgb b, int tol) {
    return std::abs(a.red() - b.r) <= tol && std::abs(a.green() - b.g) <= tol && std::abs(a.blue() - b.b) <= tol;
}

}  // namespace

class CacheviewsHeadGridTest : public QObject {
    Q_OBJECT
private slots:
    void pooledValuesAreTheEngineProbabilities();
    void clickSelectsHead();
    void fitsANarrowDock();
    void inconsistentRowsAreRefused();
    void localLayersAreNamed();
    void nonFiniteProbabilitiesAndEmptyRows();
    void hugeKeyPositionIsRefused();
};

void CacheviewsHeadGridTest::pooledValuesAreTheEngineProbabilities() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    const int32_t n_layer = model.config().n_layer, n_head = model.config().n_head;
    // Sinks + window 16 over 40 positions: the oldest rows saw every key, the
    // newest only the sinks and the window (evicted keys are grey bins).
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 34);
    const auto rows = recentRows(rec, 12);
    QCOMPARE(rows.size(), size_t{12});
    HeadGridView view;
    view.resize(360, 1100);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setRecentAttention(rows, n_layer, n_head);
    QVERIFY(view.lastError().isEmpty());

    // Independent pooling: key position p goes to bin p * n_cols / n_positions.
    int32_t n_positions = 0;
    for (const auto& q : rows)
        for (const auto& la : q.layers) n_positions = std::max(n_positions, la.key_positions.back() + 1);
    const int32_t n_cols = std::min(HeadGridView::kThumbnailColumns, n_positions);
    const kvscope::gui::PooledAttention& pooled = view.pooled();
    QCOMPARE(pooled.n_positions, n_positions);
    QCOMPARE(pooled.n_columns, n_cols);
    QCOMPARE(pooled.n_rows, 12);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const QImage img = view.grab().toImage();
    int nan_cells = 0;
    for (int32_t l = 0; l < n_layer; ++l)
        for (int32_t h = 0; h < n_head; ++h) {
            std::vector<float> expect(rows.size() * static_cast<size_t>(n_cols), nan);  // [rows][n_cols]
            float max = 0;
            size_t arg = 0;
            for (size_t r = 0; r < rows.size(); ++r) {
                const auto& la = rows[r].layers[static_cast<size_t>(l)];
                const size_t n_keys = la.key_positions.size();
                for (size_t k = 0; k < n_keys; ++k) {
                    const float p = la.probs[static_cast<size_t>(h) * n_keys + k];
                    float& cell = expect[r * static_cast<size_t>(n_cols) +
                                         static_cast<size_t>(la.key_positions[k] * n_cols / n_positions)];
                    if (std::isnan(cell) || p > cell) cell = p;
                    if (p > max) {
                        max = p;
                        arg = r * static_cast<size_t>(n_cols) + static_cast<size_t>(la.key_positions[k] * n_cols / n_positions);
                    }
                }
            }
            for (size_t i = 0; i < expect.size(); ++i) {
                const float got = pooled.at(l, h, static_cast<int32_t>(i / static_cast<size_t>(n_cols)),
                                            static_cast<int32_t>(i % static_cast<size_t>(n_cols)));
                if (std::isnan(expect[i])) {
                    QVERIFY(std::isnan(got));
                } else {
                    QCOMPARE(got, expect[i]);
                }
            }
            // On screen: each bin's centre shows viridis(sqrt(p / max)); not-held bins are grey.
            const QRect t = view.thumbnailRect(l, h);
            const qreal cw = static_cast<qreal>(t.width()) / n_cols, ch = static_cast<qreal>(t.height()) / 12;
            for (size_t i = 0; i < expect.size(); ++i) {
                const QPointF c(t.left() + (static_cast<qreal>(i % static_cast<size_t>(n_cols)) + 0.5) * cw,
                                t.top() + (static_cast<qreal>(i / static_cast<size_t>(n_cols)) + 0.5) * ch);
                const QColor px = pixelAt(img, c);
                if (std::isnan(expect[i])) {
                    ++nan_cells;
                    QVERIFY(near(px, kvscope::render::kNotHeldGrey, 0));
                } else {
                    const auto want = kvscope::render::viridis(std::sqrt(static_cast<double>(expect[i]) / max));
                    QVERIFY2(near(px, want, 3), qPrintable(QStringLiteral("L%1 H%2 bin %3: %4 vs %5,%6,%7")
                                                               .arg(l).arg(h).arg(i).arg(px.name())
                                                               .arg(want.r).arg(want.g).arg(want.b)));
                }
            }
            // The brightest bin is the top of the colour map.
            QCOMPARE(pixelAt(img, QPointF(t.left() + (static_cast<qreal>(arg % static_cast<size_t>(n_cols)) + 0.5) * cw,
                                          t.top() + (static_cast<qreal>(arg / static_cast<size_t>(n_cols)) + 0.5) * ch)),
                     QColor(0xfd, 0xe7, 0x25));
        }
    // Evicted keys really showed up as grey bins in the newest rows.
    QVERIFY(nan_cells > 0);
}

void CacheviewsHeadGridTest::clickSelectsHead() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 3);
    HeadGridView view;
    view.resize(350, 1100);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setRecentAttention(recentRows(rec, 32), model.config().n_layer, model.config().n_head);
    QSignalSpy spy(&view, &HeadGridView::headSelected);
    const QRect t = view.thumbnailRect(7, 4);
    QVERIFY(!t.isEmpty());
    QTest::mouseClick(&view, Qt::LeftButton, {}, t.center());
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 7);
    QCOMPARE(spy.at(0).at(1).toInt(), 4);
    QCOMPARE(view.selectedLayer(), 7);
    QCOMPARE(view.selectedHead(), 4);
    // The selection outline sits in the gap around the thumbnail.
    const QImage img = view.grab().toImage();
    QCOMPARE(pixelAt(img, QPointF(t.left() - 1, t.center().y())), kvscope::gui::kSelectionColor);
    QCOMPARE(pixelAt(img, QPointF(t.right() + 1, t.center().y())), kvscope::gui::kSelectionColor);
    QVERIFY(pixelAt(img, QPointF(view.thumbnailRect(7, 3).left() - 1, t.center().y())) != kvscope::gui::kSelectionColor);
    // A click on a label (outside every thumbnail) selects nothing.
    QTest::mouseClick(&view, Qt::LeftButton, {}, QPoint(2, t.center().y()));
    QCOMPARE(spy.count(), 1);
}

void CacheviewsHeadGridTest::fitsANarrowDock() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    auto rec = kvscope::test::record_session(model, kvscope::test::sinks_window_policy(16, 4), 1);
    HeadGridView view;
    view.setRecentAttention(recentRows(rec, 32), 30, 9);
    QCOMPARE(model.config().n_layer, 30);
    QCOMPARE(model.config().n_head, 9);
    QVERIFY(view.sizeHint().width() <= 350);
    QVERIFY(view.minimumSizeHint().width() <= view.sizeHint().width());
    view.resize(view.sizeHint());
    QVERIFY(view.thumbnailRect(29, 8).right() < view.width());
    QVERIFY(view.thumbnailRect(29, 8).bottom() < view.height());
    QCOMPARE(view.thumbnailRect(0, 0).width(), 32);
    QVERIFY(view.thumbnailRect(30, 0).isEmpty());
    // The images were built once, at the rows' size.
    QCOMPARE(view.thumbnail(3, 3).size(), QSize(view.pooled().n_columns, view.pooled().n_rows));
}

// A model with its own windows: local layers' labels in vermillion (as in the
// KV strip), the thumbnails' tooltips say local or global.
void CacheviewsHeadGridTest::localLayersAreNamed() {
    HeadGridView view;
    view.resize(300, 200);
    kvscope::QueryAttention q;
    q.position = 1;
    q.layers.resize(2);
    for (auto& layer : q.layers) {
        layer.key_positions = {0, 1};
        layer.probs = {0.5f, 0.5f};
    }
    view.setRecentAttention({q}, 2, 1);
    QVERIFY(view.lastError().isEmpty());
    QVERIFY(!view.tooltipFor(0, 0).contains(QStringLiteral("local")));
    view.setLayerWindows({8, 0});
    QVERIFY2(view.tooltipFor(0, 0).contains(QStringLiteral("layer 0, head 0 (local: the model's own 8-token window)")),
             qPrintable(view.tooltipFor(0, 0)));
    QVERIFY(view.tooltipFor(1, 0).contains(QStringLiteral("(global)")));
    const QImage img = view.grab().toImage();
    const auto labelHasColour = [&](int32_t layer, const QColor& colour) {
        const QRect thumb = view.thumbnailRect(layer, 0);
        for (int x = 0; x < thumb.left(); ++x)
            for (int y = thumb.top(); y <= thumb.bottom(); ++y)
                if (img.pixelColor(x, y) == colour) return true;
        return false;
    };
    QVERIFY(labelHasColour(0, kvscope::gui::kLocalLayerLabelColor));
    QVERIFY(!labelHasColour(1, kvscope::gui::kLocalLayerLabelColor));
}

void CacheviewsHeadGridTest::inconsistentRowsAreRefused() {
    HeadGridView view;
    view.resize(300, 200);
    kvscope::QueryAttention q;
    q.position = 3;
    q.layers.resize(2);
    q.layers[0].key_positions = {0, 1};
    q.layers[0].probs = {0.5f, 0.5f};  // 1 head
    q.layers[1].key_positions = {0, 1};
    q.layers[1].probs = {0.5f};        // too few
    view.setRecentAttention({q}, 2, 1);
    QVERIFY(view.lastError().contains(QStringLiteral("layer 1")));
    QVERIFY(view.thumbnailRect(0, 0).isEmpty());
    // The reason is painted instead of the grid: text on the background, no thumbnail.
    const QImage refused = view.grab().toImage();
    QVERIFY(kvscope::test::has_several_colours(refused));
    QVERIFY(!kvscope::test::contains_colour(refused, QColor(kvscope::render::kNotHeldGrey.r, kvscope::render::kNotHeldGrey.g,
                                                            kvscope::render::kNotHeldGrey.b)));
    view.setRecentAttention({q}, 3, 1);
    QVERIFY(view.lastError().contains(QStringLiteral("3 layers")) || view.lastError().contains(QStringLiteral("expected 3")));
    view.setRecentAttention({}, 0, 9);
    QVERIFY(!view.lastError().isEmpty());
    q.layers[1].probs = {0.25f, 0.75f};
    view.setRecentAttention({q}, 2, 1);
    QVERIFY(view.lastError().isEmpty());
    QCOMPARE(view.pooled().at(1, 0, 0, 1), 0.75f);
}

void CacheviewsHeadGridTest::nonFiniteProbabilitiesAndEmptyRows() {
    using kvscope::gui::thumbnailColor;
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const kvscope::render::Rgb* table = kvscope::render::viridis_table();
    const auto rgb = [](kvscope::render::Rgb c) { return qRgb(c.r, c.g, c.b); };
    // The colour: NaN value = not held; non-finite ratios are the bottom of the map.
    QCOMPARE(thumbnailColor(nan, 1.0f), rgb(kvscope::render::kNotHeldGrey));
    QCOMPARE(thumbnailColor(inf, 1.0f), rgb(table[0]));
    QCOMPARE(thumbnailColor(0.5f, inf), rgb(table[0]));
    QCOMPARE(thumbnailColor(0.5f, nan), rgb(table[0]));
    QCOMPARE(thumbnailColor(0.5f, 0.0f), rgb(table[0]));
    QCOMPARE(thumbnailColor(1.0f, 1.0f), rgb(table[255]));
    QCOMPARE(thumbnailColor(0.25f, 1.0f), rgb(table[128]));  // sqrt(0.25) * 255 = 127.5 -> 128

    // Pooling: NaN and inf count as 0 (held), the maximum is that of the finite weights.
    kvscope::QueryAttention q;
    q.position = 4;
    q.layers.resize(1);
    q.layers[0].key_positions = {0, 1, 2, 3};
    q.layers[0].probs = {0.2f, nan, inf, 0.6f, /*head 1*/ nan, nan, -inf, nan};  // [2 heads][4 keys]
    kvscope::gui::PooledAttention pooled;
    QCOMPARE(kvscope::gui::poolAttention({q}, 1, 2, 32, pooled), QString());
    QCOMPARE(pooled.non_finite, int64_t{6});
    QCOMPARE(pooled.max[0], 0.6f);
    QCOMPARE(pooled.max[1], 0.0f);
    QCOMPARE(pooled.at(0, 0, 0, 1), 0.0f);  // held, not NaN (not-held grey)
    QCOMPARE(pooled.at(0, 0, 0, 2), 0.0f);
    QCOMPARE(pooled.at(0, 0, 0, 3), 0.6f);
    const QImage img = kvscope::gui::thumbnailImage(pooled, 0, 0);
    QCOMPARE(img.pixel(2, 0), rgb(table[0]));
    QCOMPARE(img.pixel(3, 0), rgb(table[255]));
    const QImage all_bad = kvscope::gui::thumbnailImage(pooled, 0, 1);
    for (int c = 0; c < 4; ++c) QCOMPARE(all_bad.pixel(c, 0), rgb(table[0]));
    HeadGridView view;
    view.resize(320, 200);
    view.setRecentAttention({q}, 1, 2);
    QVERIFY(view.lastError().isEmpty());
    // On screen: head 0's bins 2 and 3 (inf and 0.6) are the bottom and top of
    // the map; head 1 (no finite weight) is the bottom all along.
    const auto binCentre = [&](int32_t head, int bin) {
        const QRect t = view.thumbnailRect(0, head);
        return QPointF(t.left() + (bin + 0.5) * t.width() / 4.0, t.center().y());
    };
    QImage shown = view.grab().toImage();
    QCOMPARE(pixelAt(shown, binCentre(0, 2)).rgb(), rgb(table[0]));
    QCOMPARE(pixelAt(shown, binCentre(0, 3)).rgb(), rgb(table[255]));
    for (int c = 0; c < 4; ++c) QCOMPARE(pixelAt(shown, binCentre(1, c)).rgb(), rgb(table[0]));

    // No rows: an empty grid, no images, no error.
    QCOMPARE(kvscope::gui::poolAttention({}, 2, 3, 32, pooled), QString());
    QCOMPARE(pooled.n_rows, 0);
    QVERIFY(kvscope::gui::thumbnailImage(pooled, 1, 2).isNull());
    view.setRecentAttention({}, 2, 3);
    QVERIFY(view.lastError().isEmpty());
    QVERIFY(view.thumbnail(1, 2).isNull());
    // The grid is still laid out (2 x 3), every thumbnail plain not-held grey.
    shown = view.grab().toImage();
    for (int32_t l = 0; l < 2; ++l)
        for (int32_t h = 0; h < 3; ++h) {
            QVERIFY(!view.thumbnailRect(l, h).isEmpty());
            QVERIFY(near(pixelAt(shown, QPointF(view.thumbnailRect(l, h).center())), kvscope::render::kNotHeldGrey, 0));
        }
    // A row with no keys at all.
    kvscope::QueryAttention none;
    none.layers.resize(1);
    QCOMPARE(kvscope::gui::poolAttention({none}, 1, 3, 32, pooled), QString());
    QCOMPARE(pooled.n_columns, 1);
    QVERIFY(std::isnan(pooled.at(0, 2, 0, 0)));
}

void CacheviewsHeadGridTest::hugeKeyPositionIsRefused() {
    kvscope::QueryAttention q;
    q.layers.resize(1);
    q.layers[0].key_positions = {0, std::numeric_limits<int32_t>::max()};
    q.layers[0].probs = {0.5f, 0.5f};
    kvscope::gui::PooledAttention pooled;
    const QString err = kvscope::gui::poolAttention({q}, 1, 1, 32, pooled);
    QVERIFY2(err.contains(QStringLiteral("too large")), qPrintable(err));
    QVERIFY(pooled.values.empty());
    // One below still works: the last position goes to the last bin.
    q.layers[0].key_positions[1] = std::numeric_limits<int32_t>::max() - 1;
    QCOMPARE(kvscope::gui::poolAttention({q}, 1, 1, 32, pooled), QString());
    QCOMPARE(pooled.n_positions, std::numeric_limits<int32_t>::max());
    QCOMPARE(pooled.columnOf(std::numeric_limits<int32_t>::max() - 1), 31);
    QCOMPARE(pooled.at(0, 0, 0, 31), 0.5f);
}

QTEST_MAIN(CacheviewsHeadGridTest)
#include "cacheviews_headgrid_test.moc"
