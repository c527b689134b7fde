// The renderer, drawn offscreen and read back: pixels at computed cell
// centres, file magic, CSV text, atomic failure, and the Pareto front.
#include <gtest/gtest.h>

#include <QImage>
#include <QString>
#include <qcustomplot.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "render/colors.h"
#include "render/heatmap_render.h"
#include "render/line_plot.h"
#include "render/output.h"
#include "render/plots.h"
#include "render/scatter_render.h"

// fontconfig (loaded once by Qt's font database) keeps a few allocations for
// the life of the process; LeakSanitizer would report them at exit. Read by
// LSan in sanitizer builds, unused otherwise.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace fs = std::filesystem;
using namespace kvscope::render;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class TempDir {
public:
    TempDir() {
        path_ = fs::temp_directory_path() / ("kvscope_render_test_" + std::to_string(::getpid()) + "_" +
                                             std::to_string(counter_++));
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    fs::path path_;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// 4 queries x 6 keys, a causal pattern with an evicted key and a sliding window.
HeatmapData small_heatmap() {
    HeatmapData d;
    d.query_positions = {10, 11, 12, 13};
    d.key_positions = {0, 1, 2, 3, 4, 5};
    d.values = {
        0.50f, 0.10f, kNaN,  kNaN,  kNaN,  kNaN,   //
        0.30f, 0.20f, 0.05f, kNaN,  kNaN,  kNaN,   //
        0.20f, kNaN,  0.15f, 0.25f, kNaN,  kNaN,   //
        0.10f, kNaN,  0.05f, 0.20f, 0.90f, 0.02f,  //
    };
    d.sink_marks = {{0, 0, 3}};
    d.global_marks = {{5, 3, 3}};
    d.window_edges = {{12, 2}, {13, 2}};
    d.title = "test heatmap";
    return d;
}

Rgb pixel(const QImage& image, std::pair<double, double> at) {
    const QRgb c = image.pixel(static_cast<int>(at.first), static_cast<int>(at.second));
    return Rgb{static_cast<uint8_t>(qRed(c)), static_cast<uint8_t>(qGreen(c)), static_cast<uint8_t>(qBlue(c))};
}

::testing::AssertionResult near(Rgb actual, Rgb expected, int tolerance = 2) {
    if (std::abs(actual.r - expected.r) <= tolerance && std::abs(actual.g - expected.g) <= tolerance &&
        std::abs(actual.b - expected.b) <= tolerance)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got (" << int(actual.r) << "," << int(actual.g) << "," << int(actual.b)
                                         << "), expected (" << int(expected.r) << "," << int(expected.g) << ","
                                         << int(expected.b) << ")";
}

}  // namespace

TEST(RenderHeatmap, PngCellsHaveTheirColours) {
    TempDir dir;
    const HeatmapData d = small_heatmap();
    HeatmapStyle style;
    style.width = 640;
    style.height = 480;
    style.hatch_not_held = false;
    const std::string path = dir.file("map.png");
    render_heatmap(d, style, path);

    QImage image(QString::fromStdString(path));
    ASSERT_FALSE(image.isNull());
    EXPECT_EQ(image.width(), 640);
    EXPECT_EQ(image.height(), 480);

    // Not blank: many distinct colours.
    std::vector<QRgb> seen;
    for (int y = 0; y < image.height(); y += 7)
        for (int x = 0; x < image.width(); x += 7)
            if (std::find(seen.begin(), seen.end(), image.pixel(x, y)) == seen.end()) seen.push_back(image.pixel(x, y));
    EXPECT_GT(seen.size(), 10u);

    const HeatmapGeometry g = heatmap_geometry(d, style);
    EXPECT_EQ(g.n_queries, 4u);
    EXPECT_EQ(g.n_keys, 6u);
    EXPECT_LT(g.left, g.right);
    EXPECT_LT(g.top, g.bottom);
    EXPECT_GT(g.left, 0);
    EXPECT_LT(g.right, 640);

    EXPECT_TRUE(near(pixel(image, g.cell_center(0, 3)), kNotHeldGrey));   // not yet written
    EXPECT_TRUE(near(pixel(image, g.cell_center(2, 1)), kNotHeldGrey));   // evicted
    EXPECT_TRUE(near(pixel(image, g.cell_center(3, 4)), viridis(1.0)));   // the maximum, 0.9
    EXPECT_TRUE(near(pixel(image, g.cell_center(3, 1)), kNotHeldGrey));
    EXPECT_TRUE(near(viridis(1.0), Rgb{0xfd, 0xe7, 0x25}, 0));
    // The minimum (0.02) is the bottom colour.
    EXPECT_TRUE(near(pixel(image, g.cell_center(3, 5)), viridis(0.0)));
    // A middle value is neither end, nor grey.
    const Rgb mid = pixel(image, g.cell_center(1, 0));  // 0.30
    EXPECT_TRUE(near(mid, viridis((0.30 - 0.02) / (0.90 - 0.02)), 4));
}

TEST(RenderHeatmap, HatchedNotHeldCellsAreGrey) {
    TempDir dir;
    const HeatmapData d = small_heatmap();
    HeatmapStyle style;
    style.width = 600;
    style.height = 500;
    const std::string path = dir.file("hatched.png");
    render_heatmap(d, style, path);
    QImage image(QString::fromStdString(path));
    const HeatmapGeometry g = heatmap_geometry(d, style);
    const auto [cx, cy] = g.cell_center(0, 4);
    int hatch = 0, plain = 0;
    for (int dy = -6; dy <= 6; ++dy)
        for (int dx = -6; dx <= 6; ++dx) {
            const Rgb c = pixel(image, {cx + dx, cy + dy});
            if (near(c, kNotHeldHatch, 0)) ++hatch;
            else if (near(c, kNotHeldGrey, 0)) ++plain;
            else ADD_FAILURE() << "unexpected colour near a not-held cell: " << int(c.r) << "," << int(c.g) << "," << int(c.b);
        }
    EXPECT_GT(hatch, 0);
    EXPECT_GT(plain, hatch);
}

TEST(RenderHeatmap, LogScaleTopAndBottom) {
    TempDir dir;
    HeatmapData d;
    d.query_positions = {0, 1};
    d.key_positions = {0, 1, 2};
    d.values = {1e-4f, 1e-2f, 1.0f, 0.0f, kNaN, 1e-1f};
    HeatmapStyle style;
    style.scale = ColorScale::Log;
    style.width = 500;
    style.height = 400;
    style.hatch_not_held = false;
    const std::string path = dir.file("log.png");
    render_heatmap(d, style, path);
    QImage image(QString::fromStdString(path));
    const HeatmapGeometry g = heatmap_geometry(d, style);
    EXPECT_TRUE(near(pixel(image, g.cell_center(0, 2)), viridis(1.0)));
    EXPECT_TRUE(near(pixel(image, g.cell_center(0, 0)), viridis(0.0)));
    EXPECT_TRUE(near(pixel(image, g.cell_center(1, 0)), viridis(0.0)));  // 0 under log: bottom of the range
    EXPECT_TRUE(near(pixel(image, g.cell_center(0, 1)), viridis(0.5), 4));  // 1e-2 is half way in log
    EXPECT_TRUE(near(pixel(image, g.cell_center(1, 1)), kNotHeldGrey));
}

TEST(RenderHeatmap, SingleCell) {
    TempDir dir;
    HeatmapData d;
    d.query_positions = {7};
    d.key_positions = {3};
    d.values = {0.5f};
    HeatmapStyle style;
    style.width = 300;
    style.height = 300;
    const std::string path = dir.file("one.png");
    render_heatmap(d, style, path);
    QImage image(QString::fromStdString(path));
    const HeatmapGeometry g = heatmap_geometry(d, style);
    const Rgb c = pixel(image, g.cell_center(0, 0));
    EXPECT_FALSE(near(c, Rgb{255, 255, 255}, 10)) << "the single cell is drawn";
}

TEST(RenderHeatmap, SvgAndPdfMagic) {
    TempDir dir;
    const HeatmapData d = small_heatmap();
    HeatmapStyle style;
    render_heatmap(d, style, dir.file("map.svg"));
    render_heatmap(d, style, dir.file("map.PDF"));
    const std::string svg = read_all(dir.file("map.svg"));
    const std::string pdf = read_all(dir.file("map.PDF"));
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
    EXPECT_NE(pdf.find("%%EOF"), std::string::npos);
}

// QSvgGenerator drops texture brushes: the hatched grey of not-held cells (and
// its legend swatch) would leave empty groups. The SVG fills them plain grey.
TEST(RenderHeatmap, SvgKeepsTheNotHeldFillAndItsLegendSwatch) {
    TempDir dir;
    render_heatmap(small_heatmap(), HeatmapStyle{}, dir.file("map.svg"));
    const std::string svg = read_all(dir.file("map.svg"));
    char grey[8];
    std::snprintf(grey, sizeof grey, "#%02x%02x%02x", kNotHeldGrey.r, kNotHeldGrey.g, kNotHeldGrey.b);
    size_t count = 0;
    for (size_t at = svg.find(grey); at != std::string::npos; at = svg.find(grey, at + 1)) ++count;
    EXPECT_GE(count, 2u) << "the not-held area and its legend swatch are filled with " << grey;
    EXPECT_NE(svg.find("not held"), std::string::npos) << "the legend names it";
}

// Sweep points that crowd together: their labels are placed so that no two
// overlap (a label with no free place is hidden, never drawn over another).
TEST(RenderScatter, PointLabelsDoNotOverlap) {
    ensure_qt_application();
    std::vector<ScatterPoint> points;
    for (int i = 0; i < 12; ++i)  // close in both bytes and perplexity
        points.push_back(ScatterPoint{"sinks(4)+window(" + std::to_string(128 + i) + ")", (1.0 + i * 0.01) * 1024 * 1024,
                                      20.0 + (i % 3) * 0.02});
    points.push_back(ScatterPoint{"full", 8.0 * 1024 * 1024, 19.0});
    QCustomPlot plot;
    setup_pareto_scatter(plot, points, "sweep", ScatterStyle{});
    plot.resize(700, 450);
    plot.replot();  // lays out: the labels are placed
    std::vector<QRectF> shown;
    for (int i = 0; i < plot.itemCount(); ++i) {
        auto* text = qobject_cast<QCPItemText*>(plot.item(i));
        if (text == nullptr || !text->visible()) continue;
        const QPointF at = text->position->pixelPosition();
        const QFontMetricsF fm(text->font());
        shown.emplace_back(at, QSizeF(fm.horizontalAdvance(text->text()), fm.height()));
    }
    EXPECT_GE(shown.size(), 4u) << "some labels are shown";
    for (size_t a = 0; a < shown.size(); ++a)
        for (size_t b = a + 1; b < shown.size(); ++b)
            EXPECT_FALSE(shown[a].intersects(shown[b])) << "labels " << a << " and " << b << " overlap";
}

TEST(RenderHeatmap, UnknownExtensionListsSupported) {
    TempDir dir;
    try {
        render_heatmap(small_heatmap(), {}, dir.file("map.bmp"));
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(".png"), std::string::npos) << what;
        EXPECT_NE(what.find(".svg"), std::string::npos) << what;
        EXPECT_NE(what.find(".pdf"), std::string::npos) << what;
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(RenderHeatmap, UnwritablePathThrowsAndLeavesNoFile) {
    TempDir dir;
    const std::string missing_dir = dir.file("no/such/dir/map.png");
    try {
        render_heatmap(small_heatmap(), {}, missing_dir);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(missing_dir), std::string::npos) << e.what();
    }
    // A path whose "directory" is a regular file.
    const std::string blocker = dir.file("blocker");
    std::ofstream(blocker) << "x";
    EXPECT_THROW(render_heatmap(small_heatmap(), {}, blocker + "/map.pdf"), std::runtime_error);
    EXPECT_THROW(write_heatmap_csv(small_heatmap(), blocker + "/map.csv"), std::runtime_error);
    // A directory where the file should go: the temporary file must not stay behind.
    fs::create_directory(dir.file("taken.png"));
    EXPECT_THROW(render_heatmap(small_heatmap(), {}, dir.file("taken.png")), std::runtime_error);
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(dir.path())) left.push_back(entry.path().filename().string());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"blocker", "taken.png"}));
    EXPECT_TRUE(fs::is_empty(dir.file("taken.png")));
}

TEST(RenderHeatmap, MismatchedSizesAreRejected) {
    TempDir dir;
    HeatmapData d = small_heatmap();
    d.values.pop_back();
    EXPECT_THROW(render_heatmap(d, {}, dir.file("bad.png")), std::invalid_argument);
    EXPECT_THROW(write_heatmap_csv(d, dir.file("bad.csv")), std::invalid_argument);
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(RenderHeatmap, CsvContent) {
    TempDir dir;
    HeatmapData d;
    d.query_positions = {4, 5};
    d.key_positions = {0, 2, 3};
    d.values = {0.5f, kNaN, 0.125f, 0.1f, 1e-7f, kNaN};
    const std::string path = dir.file("map.csv");
    write_heatmap_csv(d, path);
    EXPECT_EQ(read_all(path),
              "query\\key,0,2,3\n"
              "4,0.5,,0.125\n"
              "5,0.1,1e-07,\n");
}

TEST(RenderHeatmap, ReplacesAnExistingFile) {
    TempDir dir;
    const std::string path = dir.file("map.csv");
    std::ofstream(path) << "old";
    write_heatmap_csv(small_heatmap(), path);
    EXPECT_EQ(read_all(path).rfind("query\\key,0,1,2,3,4,5\n10,0.5,0.1,,,,\n", 0), 0u);
}

TEST(ParetoFront, HandMadePoints) {
    const std::vector<ScatterPoint> points = {
        {"a", 100, 10.0},  // 0: front (smallest cache)
        {"b", 200, 8.0},   // 1: front
        {"c", 250, 9.0},   // 2: dominated by b
        {"d", 300, 6.0},   // 3: front
        {"e", 300, 7.0},   // 4: same cache as d, worse
        {"f", 400, 6.0},   // 5: dominated by d (ties on y)
        {"g", 500, 5.5},   // 6: front
        {"h", 150, 12.0},  // 7: dominated by a
    };
    EXPECT_EQ(pareto_front(points), (std::vector<std::size_t>{0, 1, 3, 6}));
}

TEST(ParetoFront, EdgeCases) {
    EXPECT_TRUE(pareto_front({}).empty());
    EXPECT_EQ(pareto_front({{"only", 1, 1}}), (std::vector<std::size_t>{0}));
    // Exact duplicates both stay; NaN points never join; input order does not matter.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    EXPECT_EQ(pareto_front({{"p", 5, 5}, {"nan", nan, 1}, {"q", 5, 5}, {"r", 1, 9}, {"s", 9, nan}}),
              (std::vector<std::size_t>{3, 0, 2}));
}

TEST(RenderScatter, PngAndPdf) {
    TempDir dir;
    const std::vector<ScatterPoint> points = {
        {"full", 36.0 * 1024 * 1024, 9.1}, {"window 512", 9.0 * 1024 * 1024, 9.9},
        {"h2o 25%", 9.0 * 1024 * 1024, 9.5}, {"sink+window", 10.0 * 1024 * 1024, 9.4},
    };
    render_pareto_scatter(points, dir.file("pareto.png"), "KV bytes vs perplexity");
    render_pareto_scatter(points, dir.file("pareto.pdf"), "KV bytes vs perplexity");
    QImage image(QString::fromStdString(dir.file("pareto.png")));
    ASSERT_FALSE(image.isNull());
    EXPECT_EQ(image.size(), QSize(900, 650));
    EXPECT_EQ(read_all(dir.file("pareto.pdf")).rfind("%PDF-", 0), 0u);
    EXPECT_THROW(render_pareto_scatter(points, dir.file("pareto.jpg"), ""), std::runtime_error);
}

TEST(RenderLinePlot, PngAndPdf) {
    TempDir dir;
    LineSeries full{"full", {}, {1, 2, 3, 4, 5}};
    LineSeries windowed{"window", {}, {1, 2, 3, 3, 3}};
    LineSeries kl{"KL", {0, 2, 4}, {0.0, 0.1, std::nan("")}};
    LinePlotStyle style;
    style.title = "KV bytes";
    style.y_label = "bytes";
    style.width = 400;
    style.height = 300;
    render_line_plot({full, windowed, kl}, dir.file("lines.png"), style);
    render_line_plot({full, windowed}, dir.file("lines.pdf"), style);
    QImage image(QString::fromStdString(dir.file("lines.png")));
    ASSERT_FALSE(image.isNull());
    EXPECT_EQ(image.size(), QSize(400, 300));
    // Tableau blue (the first series) appears somewhere.
    bool blue = false;
    for (int y = 0; y < image.height() && !blue; ++y)
        for (int x = 0; x < image.width() && !blue; ++x) blue = image.pixel(x, y) == qRgb(31, 119, 180);
    EXPECT_TRUE(blue);
    EXPECT_EQ(read_all(dir.file("lines.pdf")).rfind("%PDF-", 0), 0u);
    EXPECT_THROW(render_line_plot({LineSeries{"bad", {1, 2}, {1}}}, dir.file("bad.png")), std::invalid_argument);
}
