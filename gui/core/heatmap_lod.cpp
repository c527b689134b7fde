#include "core/heatmap_lod.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kvscope::gui {

namespace {

// Splits `n` level cells into `parts` consecutive runs of floor/ceil(n/parts)
// cells: edges[i] = i*n/parts (rounded down), edges[parts] = n.
std::vector<int32_t> split_edges(int32_t n, int32_t parts) {
    std::vector<int32_t> edges(static_cast<std::size_t>(parts) + 1);
    for (int32_t i = 0; i <= parts; ++i)
        edges[static_cast<std::size_t>(i)] =
            static_cast<int32_t>(static_cast<int64_t>(i) * n / parts);
    return edges;
}

// Max of `source[0, length)` into `target` through the column map: target
// column of level cell c (counted from c0) is column_of[c - c0], for c in [c0, c1].
void pool_row(const float* source, int32_t length, int32_t c0, int32_t c1, const std::vector<int32_t>& column_of,
              float* target) {
    const int32_t end = std::min(c1 + 1, length);
    for (int32_t c = c0; c < end; ++c) {
        float& t = target[column_of[static_cast<std::size_t>(c - c0)]];
        t = std::max(t, source[c]);
    }
}

}  // namespace

LodGrid build_lod_grid(const AttentionMatrix& m, const LodRequest& q) {
    if (q.visible_rows < 1 || q.visible_rows > m.rows())
        throw std::invalid_argument("heatmap LOD: " + std::to_string(q.visible_rows) + " visible rows of " +
                                    std::to_string(m.rows()));
    const int32_t n_keys = m.query_position(q.visible_rows - 1) + 1;
    if (q.first_row < 0 || q.last_row < q.first_row || q.last_row >= q.visible_rows || q.first_key < 0 ||
        q.last_key < q.first_key || q.last_key >= n_keys || q.max_width < 1 || q.max_height < 1)
        throw std::invalid_argument("heatmap LOD: rows [" + std::to_string(q.first_row) + ", " +
                                    std::to_string(q.last_row) + "], keys [" + std::to_string(q.first_key) + ", " +
                                    std::to_string(q.last_key) + "] in a grid of at most " +
                                    std::to_string(q.max_width) + " x " + std::to_string(q.max_height) +
                                    " do not fit " + std::to_string(q.visible_rows) + " rows x " +
                                    std::to_string(n_keys) + " keys");

    // The coarsest pyramid level that still has a cell per grid cell both ways.
    const double ratio = std::min(static_cast<double>(q.last_key - q.first_key + 1) / q.max_width,
                                  static_cast<double>(q.last_row - q.first_row + 1) / q.max_height);
    const AttentionMatrix::PyramidLevel* level = nullptr;
    for (const auto& candidate : m.pyramid())
        if (candidate.block <= ratio) level = &candidate;
    const int32_t b = level == nullptr ? 1 : level->block;

    // Level cells in view: keys c0..c1, rows R0..R1 (in blocks of b).
    const int32_t c0 = q.first_key / b, c1 = q.last_key / b;
    const int32_t R0 = q.first_row / b, R1 = q.last_row / b;
    const int32_t nc = c1 - c0 + 1, nR = R1 - R0 + 1;

    LodGrid g;
    g.block = b;
    g.width = std::min(nc, q.max_width);
    g.height = std::min(nR, q.max_height);
    const std::vector<int32_t> col_split = split_edges(nc, g.width);   // [width + 1] in level cells from c0
    const std::vector<int32_t> row_split = split_edges(nR, g.height);  // [height + 1] in level rows from R0
    g.key_edges.resize(col_split.size());
    for (std::size_t i = 0; i < col_split.size(); ++i) g.key_edges[i] = std::min((c0 + col_split[i]) * b, n_keys);
    g.row_edges.resize(row_split.size());
    for (std::size_t i = 0; i < row_split.size(); ++i) g.row_edges[i] = std::min((R0 + row_split[i]) * b, q.visible_rows);

    std::vector<int32_t> column_of(static_cast<std::size_t>(nc));  // [nc] level cell -> grid column
    for (int32_t i = 0; i < g.width; ++i)
        for (int32_t c = col_split[static_cast<std::size_t>(i)]; c < col_split[static_cast<std::size_t>(i) + 1]; ++c)
            column_of[static_cast<std::size_t>(c)] = i;

    g.cells.assign(static_cast<std::size_t>(g.width) * static_cast<std::size_t>(g.height), kCellFuture);
    std::vector<float> partial;  // a block row cut by visible_rows, pooled from the matrix rows it shows
    for (int32_t y = 0; y < g.height; ++y) {
        float* out = g.cells.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(g.width);
        for (int32_t R = R0 + row_split[static_cast<std::size_t>(y)]; R < R0 + row_split[static_cast<std::size_t>(y) + 1];
             ++R) {
            if (b == 1) {
                pool_row(m.row_cells(R), m.row_length(R), c0, c1, column_of, out);
            } else if ((R + 1) * b <= q.visible_rows) {
                const std::vector<float>& cells = level->rows[static_cast<std::size_t>(R)];
                pool_row(cells.data(), static_cast<int32_t>(cells.size()), c0, c1, column_of, out);
            } else {
                // The pyramid's block row also holds rows past visible_rows (a
                // later step): pool the visible ones here (fewer than b rows).
                partial.assign(static_cast<std::size_t>((n_keys + b - 1) / b), kCellFuture);
                for (int32_t r = R * b; r < q.visible_rows; ++r) {
                    const float* cells = m.row_cells(r);
                    for (int32_t k = 0; k < m.row_length(r); ++k) {
                        float& t = partial[static_cast<std::size_t>(k / b)];
                        t = std::max(t, cells[k]);
                    }
                }
                pool_row(partial.data(), static_cast<int32_t>(partial.size()), c0, c1, column_of, out);
            }
        }
    }
    return g;
}

}  // namespace kvscope::gui
