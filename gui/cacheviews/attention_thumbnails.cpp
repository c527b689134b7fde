#include "cacheviews/attention_thumbnails.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>
#include <limits>

#include "render/colors.h"

namespace kvscope::gui {

namespace {

size_t index4(const PooledAttention& p, int32_t layer, int32_t head, int32_t row, int32_t column) {
    return ((static_cast<size_t>(layer) * static_cast<size_t>(p.n_head) + static_cast<size_t>(head)) *
                static_cast<size_t>(p.n_rows) + static_cast<size_t>(row)) * static_cast<size_t>(p.n_columns) +
           static_cast<size_t>(column);
}

}  // namespace

int32_t PooledAttention::columnOf(int32_t position) const {
    return static_cast<int32_t>(static_cast<int64_t>(position) * n_columns / n_positions);
}

float PooledAttention::at(int32_t layer, int32_t head, int32_t row, int32_t column) const {
    return values[index4(*this, layer, head, row, column)];
}

QString poolAttention(const std::vector<QueryAttention>& rows, int32_t n_layer, int32_t n_head, int32_t max_columns,
                      PooledAttention& out) {
    out = PooledAttention{};
    const auto tr = [](const char* s) { return QCoreApplication::translate("HeadGridView", s); };
    if (n_layer <= 0 || n_head <= 0) return tr("layer x head grid: %1 layers x %2 heads is not a grid").arg(n_layer).arg(n_head);
    if (max_columns <= 0) return tr("layer x head grid: %1 columns").arg(max_columns);
    int64_t n_positions = 0;  // int64: the largest key position may be INT32_MAX
    for (size_t r = 0; r < rows.size(); ++r) {
        const QueryAttention& q = rows[r];
        if (static_cast<int32_t>(q.layers.size()) != n_layer)
            return tr("attention row %1 (position %2) has %3 layers, expected %4")
                .arg(r).arg(q.position).arg(q.layers.size()).arg(n_layer);
        for (int32_t l = 0; l < n_layer; ++l) {
            const LayerAttention& la = q.layers[static_cast<size_t>(l)];
            if (la.probs.size() != static_cast<size_t>(n_head) * la.key_positions.size())
                return tr("attention row %1 layer %2: %3 probabilities for %4 heads x %5 keys")
                    .arg(r).arg(l).arg(la.probs.size()).arg(n_head).arg(la.key_positions.size());
            for (const int32_t p : la.key_positions) {
                if (p < 0) return tr("attention row %1 layer %2: negative key position %3").arg(r).arg(l).arg(p);
                n_positions = std::max(n_positions, int64_t{p} + 1);
            }
        }
    }
    if (n_positions > std::numeric_limits<int32_t>::max())
        return tr("attention rows: key position %1 is too large").arg(n_positions - 1);
    out.n_layer = n_layer;
    out.n_head = n_head;
    out.n_rows = static_cast<int32_t>(rows.size());
    out.n_positions = static_cast<int32_t>(std::max<int64_t>(n_positions, 1));
    out.n_columns = std::min(max_columns, out.n_positions);
    out.values.assign(static_cast<size_t>(n_layer) * static_cast<size_t>(n_head) * rows.size() *
                          static_cast<size_t>(out.n_columns),
                      std::numeric_limits<float>::quiet_NaN());
    out.max.assign(static_cast<size_t>(n_layer) * static_cast<size_t>(n_head), 0.0f);
    std::vector<int32_t> columns;  // [n_keys] bin of each key: the same for every head of a (row, layer)
    for (int32_t r = 0; r < out.n_rows; ++r)
        for (int32_t l = 0; l < n_layer; ++l) {
            const LayerAttention& la = rows[static_cast<size_t>(r)].layers[static_cast<size_t>(l)];
            const size_t n_keys = la.key_positions.size();
            columns.resize(n_keys);
            for (size_t k = 0; k < n_keys; ++k) columns[k] = out.columnOf(la.key_positions[k]);
            for (int32_t h = 0; h < n_head; ++h) {
                const float* probs = la.probs.data() + static_cast<size_t>(h) * n_keys;  // [n_keys]
                float* cells = &out.values[index4(out, l, h, r, 0)];                     // [n_columns]
                float m = out.max[static_cast<size_t>(l) * static_cast<size_t>(n_head) + static_cast<size_t>(h)];
                for (size_t k = 0; k < n_keys; ++k) {
                    // A non-finite probability (a broken row) counts as 0: the
                    // key is still held, and the maximum stays finite.
                    float p = probs[k];
                    if (!std::isfinite(p)) {
                        p = 0.0f;
                        ++out.non_finite;
                    }
                    float& cell = cells[columns[k]];
                    if (!(cell >= p)) cell = p;  // also replaces the NaN of a bin not seen yet
                    m = std::max(m, p);
                }
                out.max[static_cast<size_t>(l) * static_cast<size_t>(n_head) + static_cast<size_t>(h)] = m;
            }
        }
    return {};
}

QRgb thumbnailColor(float value, float max) {
    if (std::isnan(value)) return qRgb(render::kNotHeldGrey.r, render::kNotHeldGrey.g, render::kNotHeldGrey.b);
    // value / max is NaN or infinite for an infinite value or max: shown as 0.
    const double ratio = static_cast<double>(value) / static_cast<double>(max);
    const double t = std::isfinite(ratio) && max > 0 ? std::sqrt(std::clamp(ratio, 0.0, 1.0)) : 0.0;
    const render::Rgb c = render::viridis_table()[std::clamp<long>(std::lround(t * 255.0), 0, 255)];
    return qRgb(c.r, c.g, c.b);
}

QImage thumbnailImage(const PooledAttention& pooled, int32_t layer, int32_t head) {
    if (pooled.n_rows == 0 || pooled.n_columns == 0) return {};
    QImage img(pooled.n_columns, pooled.n_rows, QImage::Format_RGB32);
    const float m = pooled.max[static_cast<size_t>(layer) * static_cast<size_t>(pooled.n_head) + static_cast<size_t>(head)];
    for (int32_t r = 0; r < pooled.n_rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(img.scanLine(r));
        for (int32_t c = 0; c < pooled.n_columns; ++c) line[c] = thumbnailColor(pooled.at(layer, head, r, c), m);
    }
    return img;
}

}  // namespace kvscope::gui
