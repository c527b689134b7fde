#include "heatmap/heatmap_bench.h"

#include <QApplication>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "core/attention_matrix.h"
#include "heatmap/heatmap_view.h"

namespace kvscope::gui {

namespace {

constexpr int32_t kHeads = 3;
constexpr int32_t kSinks = 4;
constexpr int32_t kWindow = 1024;
constexpr int32_t kGlobals[] = {100, 700, 1500};

// One query's attention under sinks + window (+ a few pinned positions), with
// ~3% of the window's positions missing, and its cache view.
void synthetic_row(int32_t q, std::mt19937& rng, LayerAttention& attention, LayerCacheView& view) {
    attention.key_positions.clear();
    view.held_positions.clear();
    view.held_roles.clear();
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    const int32_t window_start = std::max(0, q - kWindow + kSinks + 1);
    for (int32_t k = 0; k <= q; ++k) {
        SlotRole role = SlotRole::Window;
        if (k < kSinks) role = SlotRole::Sink;
        else if (std::find(std::begin(kGlobals), std::end(kGlobals), k) != std::end(kGlobals)) role = SlotRole::Global;
        else if (k < window_start || (k < q && unit(rng) < 0.03f)) continue;  // evicted
        attention.key_positions.push_back(k);
        view.held_positions.push_back(k);
        view.held_roles.push_back(role);
    }
    const std::size_t n = attention.key_positions.size();
    attention.probs.resize(n * kHeads);  // [kHeads][n]
    std::exponential_distribution<float> spread(1.0f);
    for (int32_t h = 0; h < kHeads; ++h) {
        float* row = attention.probs.data() + static_cast<std::size_t>(h) * n;
        float sum = 0;
        for (std::size_t j = 0; j < n; ++j) {
            const int32_t k = attention.key_positions[j];
            const float logit = (k < kSinks ? 6.0f : 0.0f) + (q - k < 8 ? 2.0f : 0.0f) + 1.5f * spread(rng);
            row[j] = std::exp(logit);
            sum += row[j];
        }
        for (std::size_t j = 0; j < n; ++j) row[j] /= sum;
    }
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    const auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
    return values[std::min(i, values.size() - 1)];
}

}  // namespace

std::vector<RedrawTiming> bench_heatmap_redraw(const std::vector<int32_t>& sizes, int repeats) {
    if (repeats < 1) throw std::invalid_argument("heatmap bench: repeats must be >= 1, not " + std::to_string(repeats));
    for (int32_t n : sizes)
        if (n < 2 || n <= repeats)
            throw std::invalid_argument("heatmap bench: size " + std::to_string(n) + " must exceed 1 and the " +
                                        std::to_string(repeats) + " repeats");
    std::vector<RedrawTiming> timings;
    const std::vector<std::vector<int32_t>> groups{{0, 1, 2}};  // [n_head_kv] -> query heads
    for (int32_t n : sizes) {
        std::mt19937 rng(1234u + static_cast<unsigned>(n));
        AttentionMatrix matrix;
        LayerAttention attention;
        LayerCacheView view;
        const int32_t prefilled = n - repeats;
        for (int32_t q = 0; q < prefilled; ++q) {
            synthetic_row(q, rng, attention, view);
            matrix.append(q, attention, HeadSelection{}, groups, &view);
        }
        HeatmapView heatmap;
        heatmap.resize(1000, 800);
        heatmap.show();
        QApplication::processEvents();
        heatmap.setMatrix(&matrix, matrix.rows(), [](int32_t p) {
            std::string label(1, 't');  // (not "t" + ...: GCC 12 -Wrestrict false positive)
            label += std::to_string(p);
            return label;
        });
        heatmap.refresh(matrix.rows());  // warm-up
        std::vector<double> ms, rebuild_ms;
        for (int32_t q = prefilled; q < n; ++q) {
            synthetic_row(q, rng, attention, view);
            matrix.append(q, attention, HeadSelection{}, groups, &view);
            heatmap.refresh(matrix.rows());
            ms.push_back(heatmap.lastRedrawMs());
            rebuild_ms.push_back(heatmap.lastRebuildMs());
        }
        timings.push_back(RedrawTiming{n, percentile(ms, 0.5), percentile(ms, 0.9), static_cast<int32_t>(ms.size()),
                                       percentile(rebuild_ms, 0.5)});
    }
    return timings;
}

}  // namespace kvscope::gui
