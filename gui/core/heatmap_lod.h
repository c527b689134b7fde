#pragma once
// Level of detail for the heatmap: the visible part of an AttentionMatrix
// max-pooled into a grid no larger than the plot's pixels, so a redraw costs
// the pixel count rather than the matrix size (4,096² cells = 8M; a plot has
// ~1M pixels). Max-pooling keeps a single strong cell visible; a grid cell is
// "not held" only when no cell of its block was held, and "future" only when
// its whole block lies in the future. The pooling reads the matrix's pyramid
// level with the largest block that still leaves at least one level cell per
// grid cell, so it touches at most ~4x the grid's cells.
#include <cstdint>
#include <vector>

#include "core/attention_matrix.h"

namespace kvscope::gui {

struct LodRequest {
    int32_t visible_rows = 0;             // rows [0, visible_rows) of the matrix are shown
    int32_t first_row = 0, last_row = 0;  // inclusive range of rows in view, inside [0, visible_rows)
    int32_t first_key = 0, last_key = 0;  // inclusive range of key positions in view, inside [0, keys of those rows)
    int32_t max_width = 1, max_height = 1;  // the most grid cells across / down (the plot's pixels)
};

struct LodGrid {
    int32_t block = 1;               // pyramid block the grid was pooled from (1 = matrix cells)
    int32_t width = 0, height = 0;   // grid cells across (keys) and down (rows)
    std::vector<float> cells;        // [height][width], encoded like the matrix (kCellNotHeld, kCellFuture)
    std::vector<int32_t> key_edges;  // [width + 1] first key position of each grid column, then one past the last
    std::vector<int32_t> row_edges;  // [height + 1] first matrix row of each grid row, then one past the last

    // One grid cell per matrix cell.
    bool full_resolution() const {
        return width == key_edges.back() - key_edges.front() && height == row_edges.back() - row_edges.front();
    }
    float cell(int32_t x, int32_t y) const {
        return cells[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
    }
};

// Throws std::invalid_argument when the request's ranges fall outside the
// matrix's visible rows and their keys, or max_width/max_height < 1.
LodGrid build_lod_grid(const AttentionMatrix& matrix, const LodRequest& request);

}  // namespace kvscope::gui
