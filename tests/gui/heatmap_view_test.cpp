// HeatmapView, drawn offscreen and read back: colour-map cells equal the
// matrix at full resolution; not-held, low-attention and future cells differ
// in the pixels; the level-of-detail grid of a 4,096-token matrix equals a
// brute-force max-pool and keeps a single strong cell; log scale; hover;
// exports (PNG/SVG/PDF magic, CSV values, atomic failure); the redraw benchmark harness.
#include <QtTest>

#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <qcustomplot.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "core/attention_matrix.h"
#include "core/heatmap_lod.h"
#include "gui_test_support.h"
#include "heatmap/heatmap_bench.h"
#include "heatmap/heatmap_view.h"
#include "render/colors.h"
#include "session/session.h"

using namespace kvscope;
using namespace kvscope::gui;

namespace {

// "t7" for prefix "t" and position 7. Built by appending: GCC 12 at -O3 reports a
// false -Wrestrict inside `std::string("t") + std::to_string(p)` (its rvalue
// operator+ inserts in place), which -Werror turns into a failed CI build.
std::string prefixed_label(const char* prefix, int32_t position) {
    std::string label(prefix);
    label += std::to_string(position);
    return label;
}

// A real sinks(4) + window(16) decode's layer-3 mean attention (prompt + 24 steps).
AttentionMatrix real_matrix(const Model& model, std::vector<std::string>& tokens) {
    auto backend = std::make_unique<CpuBackend>(model, 2);
    SessionOptions opt;
    opt.n_ctx = 256;
    opt.capture_attention = true;
    opt.policy.kind = PolicyKind::SinksWindow;
    opt.policy.window = 16;
    opt.policy.sinks = 4;
    Session session(model, std::move(backend), opt);
    session.prefill(model.tokenizer().encode("The capital of France is", true, false));
    AttentionMatrix m;
    auto add = [&](const StepSnapshot& s, const std::vector<std::vector<int32_t>>& groups) {
        for (const auto& row : s.attention) m.append(row.position, row.layers.at(3), HeadSelection{}, groups, &s.layers.at(3));
    };
    std::vector<StepSnapshot> steps;
    for (int i = 0; i < 24; ++i) steps.push_back(session.step());
    add(session.prefill_snapshot(), steps.front().gqa_groups);
    for (const auto& s : steps) add(s, s.gqa_groups);
    for (TokenId id : session.tokens()) tokens.push_back(model.tokenizer().token_to_piece(id));
    return m;
}

// Sinks 0..3 + the last `window` keys held with small values; row `strong_row`
// also holds key `strong_key` at 1.0. Rows = keys = n.
AttentionMatrix synthetic_matrix(int32_t n, int32_t window, int32_t strong_row, int32_t strong_key) {
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0}};
    LayerAttention a;
    LayerCacheView v;
    for (int32_t q = 0; q < n; ++q) {
        a.key_positions.clear();
        a.probs.clear();
        v.held_positions.clear();
        v.held_roles.clear();
        for (int32_t k = 0; k <= q; ++k) {
            const bool sink = k < 4, recent = q - k < window, strong = q == strong_row && k == strong_key;
            if (!sink && !recent && !strong) continue;
            a.key_positions.push_back(k);
            a.probs.push_back(strong ? 1.0f : 0.001f + static_cast<float>((q * 7 + k * 13) % 100) * 1e-5f);
            v.held_positions.push_back(k);
            v.held_roles.push_back(sink ? SlotRole::Sink : SlotRole::Window);
        }
        // (The strong row's view would put its window edge on the strong key.)
        m.append(q, a, HeadSelection{HeadReduce::Head, 0}, groups, q == strong_row ? nullptr : &v);
    }
    return m;
}

// Every grid cell against a brute-force max-pool of the matrix over the keys
// and rows the grid says it covers; and the colour map holds the grid.
void check_grid(const HeatmapView& view, const AttentionMatrix& m) {
    const LodGrid& g = view.grid();
    std::vector<float> want(g.cells.size(), kCellFuture);
    std::vector<int32_t> column_of(static_cast<std::size_t>(g.key_edges.back()), -1);
    for (int32_t x = 0; x < g.width; ++x)
        for (int32_t k = g.key_edges[static_cast<std::size_t>(x)]; k < g.key_edges[static_cast<std::size_t>(x) + 1]; ++k)
            column_of[static_cast<std::size_t>(k)] = x;
    for (int32_t y = 0; y < g.height; ++y)
        for (int32_t r = g.row_edges[static_cast<std::size_t>(y)]; r < g.row_edges[static_cast<std::size_t>(y) + 1]; ++r)
            for (int32_t k = g.key_edges.front(); k < std::min(g.key_edges.back(), m.row_length(r)); ++k) {
                const float v = m.value(r, k);
                float& w = want[static_cast<std::size_t>(y) * static_cast<std::size_t>(g.width) +
                                static_cast<std::size_t>(column_of[static_cast<std::size_t>(k)])];
                w = std::max(w, std::isnan(v) ? kCellNotHeld : v);
            }
    QVERIFY(g.cells == want);
    QCPColorMapData* data = view.colorMap()->data();
    QCOMPARE(data->keySize(), g.width);
    QCOMPARE(data->valueSize(), g.height);
    for (int32_t y = 0; y < g.height; y += 7)
        for (int32_t x = 0; x < g.width; x += 3) {
            const float v = g.cell(x, y);
            if (v == kCellFuture) QCOMPARE(data->alpha(x, y), static_cast<unsigned char>(0));
            else if (v == kCellNotHeld) QVERIFY(std::isnan(data->cell(x, y)));
            else QCOMPARE(data->cell(x, y), static_cast<double>(v));
        }
}

QRgb pixel_at(const HeatmapView& view, double key, double row) {
    const QImage image = view.plot()->grab().toImage();
    const double dpr = image.devicePixelRatio();
    const int x = static_cast<int>(std::lround(view.plot()->xAxis->coordToPixel(key) * dpr));
    const int y = static_cast<int>(std::lround(view.plot()->yAxis->coordToPixel(row) * dpr));
    return image.pixel(x, y);
}

QByteArray read_file(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class HeatmapViewTest : public QObject {
    Q_OBJECT
private slots:
    void fullResolutionCellsEqualMatrix();
    void evictedLowAndFuturePixelsDiffer();
    void hoverReportsCell();
    void levelOfDetailMaxPools();
    void zoomedInIsFullResolution();
    void refreshFollowsOrKeepsZoom();
    void logScaleSwitchesColorScale();
    void exportsImagesAndCsv();
    void redrawBenchmarkRuns();
};

void HeatmapViewTest::fullResolutionCellsEqualMatrix() {
    KVSCOPE_QTEST_REQUIRE_MODEL(model);
    std::vector<std::string> tokens;
    const AttentionMatrix m = real_matrix(model, tokens);
    HeatmapView view;
    view.resize(900, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, m.rows(), [&](int32_t p) { return tokens.at(static_cast<std::size_t>(p)); });
    QVERIFY(view.grid().full_resolution());
    QCPColorMapData* data = view.colorMap()->data();
    QCOMPARE(data->keySize(), m.columns());
    QCOMPARE(data->valueSize(), m.rows());
    int not_held = 0;
    for (int32_t r = 0; r < m.rows(); ++r)
        for (int32_t k = 0; k < m.columns(); ++k) {
            int ki = -1, vi = -1;
            data->coordToCell(k, r, &ki, &vi);
            QCOMPARE(ki, k);
            QCOMPARE(vi, r);
            if (m.is_future(r, k)) {
                QCOMPARE(data->alpha(ki, vi), static_cast<unsigned char>(0));
            } else if (std::isnan(m.value(r, k))) {
                QVERIFY(std::isnan(data->cell(ki, vi)));
                ++not_held;
            } else {
                QCOMPARE(data->alpha(ki, vi), static_cast<unsigned char>(255));
                QCOMPARE(data->cell(ki, vi), static_cast<double>(m.value(r, k)));
            }
        }
    QVERIFY(not_held > 20);
    // Window edge staircase and sink lines are drawn from the matrix.
    auto* edge = qobject_cast<QCPCurve*>(view.plot()->plottable(1));
    QVERIFY(edge != nullptr);
    QVERIFY(edge->dataCount() > 10);
    // Each of the 4 sinks is held from its own row to the last: one segment
    // (2 points and a break) per sink, at its column, ending at the last row.
    auto* sinks = qobject_cast<QCPCurve*>(view.plot()->plottable(2));
    QVERIFY(sinks != nullptr);
    QCOMPARE(sinks->dataCount(), 4 * 3);
    QCOMPARE(sinks->data()->at(9)->key, 3.0);
    QCOMPARE(sinks->data()->at(10)->value, m.rows() - 0.5);
}

void HeatmapViewTest::evictedLowAndFuturePixelsDiffer() {
    // 24 rows; row 20 holds keys 0 (0.9), 10 (0.0001: the lowest), 20 (0.5); key 5 is evicted.
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0}};
    for (int32_t q = 0; q < 24; ++q) {
        LayerAttention a;
        a.key_positions = {0};
        a.probs = {0.9f};
        if (q >= 10) {
            a.key_positions.push_back(10);
            a.probs.push_back(0.0001f);
        }
        if (q > 10) {
            a.key_positions.push_back(q);
            a.probs.push_back(0.5f);
        }
        m.append(q, a, HeadSelection{HeadReduce::Head, 0}, groups, nullptr);
    }
    HeatmapView view;
    view.resize(800, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, m.rows(), {});
    const QColor evicted(pixel_at(view, 5, 20)), low(pixel_at(view, 10, 20)), future(pixel_at(view, 22, 20)),
        high(pixel_at(view, 0, 20));
    const render::Rgb grey = render::kNotHeldGrey, low_rgb = render::viridis(0.0001 / 0.9);
    QCOMPARE(evicted, QColor(grey.r, grey.g, grey.b));
    QVERIFY2(std::abs(low.red() - low_rgb.r) <= 2 && std::abs(low.green() - low_rgb.g) <= 2 &&
                 std::abs(low.blue() - low_rgb.b) <= 2,
             qPrintable(low.name()));
    QCOMPARE(future, QColor(255, 255, 255));
    QVERIFY(evicted != low && evicted != future && low != future && high != low);
}

void HeatmapViewTest::hoverReportsCell() {
    AttentionMatrix m;
    const std::vector<std::vector<int32_t>> groups{{0}};
    for (int32_t q = 0; q < 8; ++q) {
        LayerAttention a;
        for (int32_t k = 0; k <= q; ++k) {
            if (k == 1 && q > 2) continue;  // evicted
            a.key_positions.push_back(k);
            a.probs.push_back(static_cast<float>(q * 10 + k) / 100.0f);
        }
        m.append(q, a, HeadSelection{HeadReduce::Head, 0}, groups, nullptr);
    }
    HeatmapView view;
    view.resize(600, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, m.rows(), [](int32_t p) { return prefixed_label("tok", p); });
    QSignalSpy spy(&view, &HeatmapView::cellHovered);
    auto at = [&](double key, double row) {
        return QPoint(static_cast<int>(view.plot()->xAxis->coordToPixel(key)),
                      static_cast<int>(view.plot()->yAxis->coordToPixel(row)));
    };
    QTest::mouseMove(view.plot(), at(2, 6));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 6);
    QCOMPARE(spy.at(0).at(1).toInt(), 2);
    QCOMPARE(spy.at(0).at(2).toFloat(), 0.62f);
    QTest::mouseMove(view.plot(), at(1, 5));  // evicted: NaN
    QCOMPARE(spy.count(), 2);
    QVERIFY(std::isnan(spy.at(1).at(2).toFloat()));
    QTest::mouseMove(view.plot(), at(6, 2));  // future: nothing
    QCOMPARE(spy.count(), 2);
    QVERIFY(view.cellText(6, 2).contains(QStringLiteral("tok6")));
    QVERIFY(view.cellText(6, 2).contains(QStringLiteral("0.62")));
    QVERIFY(view.cellText(5, 1).contains(QStringLiteral("not held")));
    QVERIFY(view.cellText(2, 6).isEmpty());
}

void HeatmapViewTest::levelOfDetailMaxPools() {
    const AttentionMatrix m = synthetic_matrix(4096, 64, 3000, 1234);
    HeatmapView view;
    view.resize(1000, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, m.rows(), {});
    const LodGrid& g = view.grid();
    const QRect area = view.plot()->axisRect()->rect();
    const double dpr = view.devicePixelRatioF();
    QVERIFY(!g.full_resolution());
    QVERIFY(g.block > 1);
    QVERIFY(g.width <= std::ceil(area.width() * dpr) && g.height <= std::ceil(area.height() * dpr));
    QVERIFY(g.width > area.width() * dpr / 2);  // not coarser than needed
    QCOMPARE(g.key_edges.front(), 0);
    QCOMPARE(g.key_edges.back(), 4096);
    QCOMPARE(g.row_edges.back(), 4096);
    check_grid(view, m);
    // The single strong cell survives pooling.
    int32_t x = 0, y = 0;
    while (g.key_edges[static_cast<std::size_t>(x) + 1] <= 1234) ++x;
    while (g.row_edges[static_cast<std::size_t>(y) + 1] <= 3000) ++y;
    QCOMPARE(g.cell(x, y), 1.0f);
    QCOMPARE(view.colorMap()->data()->cell(x, y), 1.0);
    QCOMPARE(view.colorMap()->dataRange().upper, 1.0);
    // Blocks wholly evicted stay "not held"; blocks wholly in the future stay future.
    QCOMPARE(g.cell(g.width / 2, g.height - 1), kCellNotHeld);
    QCOMPARE(g.cell(g.width - 1, 0), kCellFuture);
    // And the pixels (the fast colouring path of big maps): the strong cell is
    // the top of the gradient, evicted blocks grey, future blocks background.
    const auto centre = [&](int32_t cx, int32_t cy) {
        const double cw = static_cast<double>(g.key_edges.back() - g.key_edges.front()) / g.width;
        const double ch = static_cast<double>(g.row_edges.back() - g.row_edges.front()) / g.height;
        return std::pair{g.key_edges.front() - 0.5 + (cx + 0.5) * cw, g.row_edges.front() - 0.5 + (cy + 0.5) * ch};
    };
    const render::Rgb top = render::viridis(1.0), grey = render::kNotHeldGrey;
    for (bool log : {false, true}) {
        view.setLogScale(log);  // (the colour bar's labels change: the grid may be rebuilt for a new plot size)
        check_grid(view, m);
        int32_t gx = 0, gy = 0;
        while (g.key_edges[static_cast<std::size_t>(gx) + 1] <= 1234) ++gx;
        while (g.row_edges[static_cast<std::size_t>(gy) + 1] <= 3000) ++gy;
        QCOMPARE(g.cell(gx, gy), 1.0f);
        const auto [sx, sy] = centre(gx, gy);
        const QColor strong(pixel_at(view, sx, sy));
        QVERIFY2(std::abs(strong.red() - top.r) <= 3 && std::abs(strong.green() - top.g) <= 3 &&
                     std::abs(strong.blue() - top.b) <= 3,
                 qPrintable(strong.name()));
        QCOMPARE(g.cell(g.width / 2, g.height - 10), kCellNotHeld);
        const auto [ex, ey] = centre(g.width / 2, g.height - 10);  // (inside: the last row touches the axis line)
        QCOMPARE(QColor(pixel_at(view, ex, ey)), QColor(grey.r, grey.g, grey.b));
        QCOMPARE(g.cell(g.width - 10, 10), kCellFuture);
        const auto [fx, fy] = centre(g.width - 10, 10);
        QCOMPARE(QColor(pixel_at(view, fx, fy)), QColor(255, 255, 255));
    }
    view.setLogScale(false);

    // The timeline: rows cut inside a pyramid block.
    view.setMatrix(&m, 3001, {});
    QCOMPARE(view.grid().row_edges.back(), 3001);
    QCOMPARE(view.grid().key_edges.back(), 3001);
    check_grid(view, m);
    view.refresh(2500);
    QCOMPARE(view.grid().row_edges.back(), 2500);  // the whole-matrix view followed
    check_grid(view, m);
}

void HeatmapViewTest::zoomedInIsFullResolution() {
    const AttentionMatrix m = synthetic_matrix(4096, 64, 3000, 2990);
    HeatmapView view;
    view.resize(1000, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, m.rows(), {});
    view.plot()->xAxis->setRange(2950 - 0.5, 3010 - 0.5);
    view.plot()->yAxis->setRange(2980 - 0.5, 3020 - 0.5);
    view.plot()->replot();
    const LodGrid& g = view.grid();
    QVERIFY(g.full_resolution());
    QCOMPARE(g.block, 1);
    QCOMPARE(g.key_edges.front(), 2950);
    QCOMPARE(g.row_edges.front(), 2980);
    QCPColorMapData* data = view.colorMap()->data();
    for (int32_t r = 2980; r < 3020; ++r)
        for (int32_t k = 2950; k < 3010; ++k) {
            int ki = -1, vi = -1;
            data->coordToCell(k, r, &ki, &vi);
            QCOMPARE(ki, k - 2950);
            QCOMPARE(vi, r - 2980);
            const float v = m.value(r, k);
            if (m.is_future(r, k)) QCOMPARE(data->alpha(ki, vi), static_cast<unsigned char>(0));
            else if (std::isnan(v)) QVERIFY(std::isnan(data->cell(ki, vi)));
            else QCOMPARE(data->cell(ki, vi), static_cast<double>(v));
        }
    QCOMPARE(data->cell(2990 - 2950, 3000 - 2980), 1.0);
    view.resetZoom();
    QVERIFY(!view.grid().full_resolution());
}

void HeatmapViewTest::refreshFollowsOrKeepsZoom() {
    const AttentionMatrix m = synthetic_matrix(300, 32, 0, 0);
    HeatmapView view;
    view.resize(800, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, 200, {});
    QCOMPARE(view.plot()->yAxis->range().upper, 199.5);
    view.refresh(250);  // whole view: follows the new rows
    QCOMPARE(view.plot()->yAxis->range().upper, 249.5);
    QCOMPARE(view.plot()->xAxis->range().upper, 249.5);
    view.plot()->yAxis->setRange(10, 50);  // zoomed by the user: kept
    view.plot()->xAxis->setRange(0, 60);
    view.plot()->replot();
    const int64_t rebuilds = view.rebuildCount();
    view.refresh(300);
    QCOMPARE(view.plot()->yAxis->range(), QCPRange(10, 50));
    QCOMPARE(view.rebuildCount(), rebuilds);  // rows appended out of view: nothing to rebuild
    view.refresh(250);
    view.plot()->yAxis->setRange(200, 260);   // the view reaches the last rows: they matter
    view.plot()->replot();
    const int64_t rebuilds_near_end = view.rebuildCount();
    view.refresh(270);
    QCOMPARE(view.rebuildCount(), rebuilds_near_end + 1);
    QCOMPARE(view.grid().row_edges.back(), 261);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, view.refresh(301));
    view.clear();
    QCOMPARE(view.grid().width, 0);
    QVERIFY(!view.colorMap()->visible());

    // A matrix cleared under the view (without setMatrix) is a caller's bug: a warning, no crash.
    AttentionMatrix shrinking = synthetic_matrix(50, 8, 0, 0);
    view.setMatrix(&shrinking, 50, {});
    QCOMPARE(view.grid().row_edges.back(), 50);
    shrinking.clear();
    QTest::ignoreMessage(QtWarningMsg, "heatmap: the matrix shrank to 0 rows under a view of 50; showing 0");
    view.plot()->replot();
    QCOMPARE(view.visibleRows(), 0);
    QVERIFY(!view.colorMap()->visible());
    QVERIFY(view.cellText(3, 1).isEmpty());
}

void HeatmapViewTest::logScaleSwitchesColorScale() {
    const AttentionMatrix m = synthetic_matrix(100, 16, 50, 20);
    HeatmapView view;
    view.resize(800, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMatrix(&m, m.rows(), {});
    QCOMPARE(view.colorScale()->dataScaleType(), QCPAxis::stLinear);
    QCOMPARE(view.colorMap()->dataRange().lower, 0.0);
    view.setLogScale(true);
    QVERIFY(view.logScale());
    QCOMPARE(view.colorScale()->dataScaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(view.colorMap()->dataScaleType(), QCPAxis::stLogarithmic);
    QVERIFY(!view.colorScale()->axis()->ticker().dynamicCast<QCPAxisTickerLog>().isNull());
    const double lo = view.colorMap()->dataRange().lower;
    QCOMPARE(lo, static_cast<double>(0.001f));  // the smallest positive weight shown
    QCOMPARE(view.colorMap()->dataRange().upper, 1.0);
    view.setLogScale(false);
    QCOMPARE(view.colorScale()->dataScaleType(), QCPAxis::stLinear);
}

void HeatmapViewTest::exportsImagesAndCsv() {
    const AttentionMatrix m = synthetic_matrix(60, 16, 40, 10);
    HeatmapView view;
    view.resize(800, 600);
    view.setMatrix(&m, 50, [](int32_t p) { return prefixed_label("t", p); });
    view.setTitle(QStringLiteral("layer 3 · mean of heads"));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString png = dir.filePath("h.png"), svg = dir.filePath("h.svg"), pdf = dir.filePath("h.pdf"),
                  csv = dir.filePath("h.csv");
    QCOMPARE(view.exportImage(png), QString());
    QCOMPARE(view.exportImage(svg), QString());
    QCOMPARE(view.exportImage(pdf), QString());
    const QByteArray png_bytes = read_file(png), svg_bytes = read_file(svg), pdf_bytes = read_file(pdf);
    QVERIFY(png_bytes.startsWith("\x89PNG\r\n\x1a\n"));
    QVERIFY(png_bytes.size() > 5000);
    QVERIFY(svg_bytes.contains("<svg"));
    QVERIFY(svg_bytes.size() > 5000);
    QVERIFY(pdf_bytes.startsWith("%PDF-"));
    QVERIFY(pdf_bytes.size() > 2000);
    const QImage image(png);
    QCOMPARE(image.width(), 1000);

    QCOMPARE(view.exportCsv(csv), QString());
    const QStringList lines = QString::fromUtf8(read_file(csv)).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 51);  // header + 50 visible rows
    const QStringList header = lines[0].split(',');
    QCOMPARE(header.size(), 1 + 50);  // keys 0..49
    for (int32_t r = 0; r < 50; ++r) {
        const QStringList cells = lines[r + 1].split(',');
        QCOMPARE(cells.size(), 51);
        QCOMPARE(cells[0].toInt(), m.query_position(r));
        for (int32_t k = 0; k < 50; ++k) {
            const QString& c = cells[k + 1];
            const float v = m.value(r, k);
            if (std::isnan(v)) QVERIFY(c.isEmpty());
            else QCOMPARE(c.toFloat(), v);
        }
    }

    const QString bad = QStringLiteral("/nonexistent-dir/x.png");
    const QString error = view.exportImage(bad);
    QVERIFY(!error.isEmpty());
    QVERIFY2(error.contains(bad), qPrintable(error));
    QVERIFY(!QFile::exists(bad));
    QVERIFY(!view.exportCsv(QStringLiteral("/nonexistent-dir/x.csv")).isEmpty());
    QVERIFY(!view.exportImage(dir.filePath("h.bmp")).isEmpty());  // unknown format
    QVERIFY(!QFile::exists(dir.filePath("h.bmp")));
    HeatmapView empty;
    QVERIFY(!empty.exportImage(png).isEmpty());
}

// The benchmark harness runs and reports sane figures; the times themselves
// are measured by `kvscope --bench` (docs/benchmarks.md), not asserted here.
void HeatmapViewTest::redrawBenchmarkRuns() {
    const auto timings = bench_heatmap_redraw({512, 2048}, 3);
    QCOMPARE(timings.size(), std::size_t{2});
    for (const auto& t : timings) {
        QCOMPARE(t.samples, 3);
        QVERIFY(t.median_ms > 0);
        QVERIFY(t.median_rebuild_ms > 0 && t.median_rebuild_ms < t.median_ms);
    }
}

QTEST_MAIN(HeatmapViewTest)
#include "heatmap_view_test.moc"
