#pragma once
// One layer's attention as a query x key matrix, grown one query row at a time
// while decoding. Rows are triangular (the row of query q holds keys 0..q), so
// a 4,096-token session costs ~4096²/2 floats, and each append is O(row length).
// Alongside the cells it keeps a max-pooled pyramid (2x2, 4x4, ... blocks) that
// the heatmap's level-of-detail downsampling reads (heatmap_lod.h), so a
// redraw of a huge matrix never touches every cell.
#include <QString>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "render/heatmap_data.h"
#include "session/step_snapshot.h"

namespace kvscope::gui {

enum class HeadReduce { Head, Mean, Max, KvGroup };  // KvGroup: mean over the query heads sharing KV head `index`

struct HeadSelection {
    HeadReduce mode = HeadReduce::Mean;
    int32_t index = 0;  // the head (Head) or KV head (KvGroup); unused otherwise
    bool operator==(const HeadSelection&) const = default;
};

// "head 3", "mean of heads", "max of heads", "KV group 1".
QString describe(const HeadSelection& selection);

// Encoding of the stored cells (matrix and pyramid): a plain max over a block
// then yields the block's strongest held value, else "not held" when any cell
// of the block was attended-to territory, else "future". Attention values are
// finite and far above both sentinels.
inline constexpr float kCellNotHeld = -std::numeric_limits<float>::max();
inline constexpr float kCellFuture = -std::numeric_limits<float>::infinity();

class AttentionMatrix {
public:
    // Rows of one pyramid level: block row R covers matrix rows [R*block, (R+1)*block)
    // and its cell K covers keys [K*block, (K+1)*block); cells past a block row's
    // length are future.
    struct PyramidLevel {
        int32_t block = 1;
        std::vector<std::vector<float>> rows;  // [ceil(rows / block)][ceil((last query in block + 1) / block)]
    };

    AttentionMatrix();
    // Changes whenever rows are dropped (clear): a view that drew rows [0, n)
    // of the same generation can reuse what it drew, since rows never change.
    uint64_t generation() const { return generation_; }

    int32_t rows() const { return static_cast<int32_t>(query_positions_.size()); }
    int32_t columns() const;  // max query position + 1 (0 when empty)
    int32_t query_position(int32_t row) const;
    float value(int32_t row, int32_t key_position) const;  // NaN when not held or future
    bool is_future(int32_t row, int32_t key_position) const;
    int32_t window_start(int32_t row) const;  // first key position of the row's sliding window (-1: none)
    // Key positions held as a sink (a global token) in some row, ascending.
    const std::vector<int32_t>& sink_columns() const { return sink_columns_; }
    const std::vector<int32_t>& global_columns() const { return global_columns_; }
    // Where each was held in that role: one span per run of consecutive rows,
    // in the order the runs began (a policy switch that evicts the sinks ends
    // their spans; the view draws the marks only there).
    const std::vector<render::MarkSpan>& sink_spans() const { return sink_spans_; }
    const std::vector<render::MarkSpan>& global_spans() const { return global_spans_; }
    void clear();

    // attention: that query's LayerAttention for this layer (probs [n_head][n_keys]);
    // gqa_groups: [n_head_kv] -> query heads; view: the layer's cache view at
    // that step (roles -> sink/global columns; window start = smallest held
    // position with SlotRole::Window when some positions before it are not
    // held; nullptr = unknown). Query positions must increase from row to row.
    // Throws std::invalid_argument on inconsistent sizes, key positions outside
    // [0, query_position] or not increasing, non-finite probabilities, or a
    // selection index out of range; the matrix is unchanged then.
    void append(int32_t query_position, const LayerAttention& attention, const HeadSelection& selection,
                const std::vector<std::vector<int32_t>>& gqa_groups, const LayerCacheView* view);

    // The stored row (encoded with kCellNotHeld; length query_position(row) + 1).
    const float* row_cells(int32_t row) const { return cells_.data() + row_offsets_[static_cast<std::size_t>(row)]; }
    int32_t row_length(int32_t row) const { return query_position(row) + 1; }
    // Pyramid levels with blocks 2, 4, 8, ... (level i has block 2^(i+1)).
    const std::vector<PyramidLevel>& pyramid() const { return pyramid_; }

    // Rows [0, visible_rows) as render data for exports: keys 0..(last visible
    // query position); NaN for not held and future cells; window edges of the
    // rows that have one; sink/global columns inside the key range. Labels come
    // from token_text(position) when it is set. Throws std::invalid_argument
    // when visible_rows is outside [0, rows()].
    render::HeatmapData to_heatmap_data(int32_t visible_rows,
                                        const std::function<std::string(int32_t)>& token_text = {},
                                        const std::string& title = {}) const;

private:
    void check_row(int32_t row) const;
    void add_to_pyramid(const std::vector<float>& row);
    void mark_columns(const LayerCacheView& view, int32_t row);

    std::vector<int32_t> query_positions_;   // [rows] strictly increasing
    std::vector<std::size_t> row_offsets_;   // [rows] start of each row in cells_
    std::vector<float> cells_;               // triangular: row r has query_positions_[r] + 1 cells
    std::vector<int32_t> window_starts_;     // [rows] -1 = no window edge
    std::vector<int32_t> sink_columns_, global_columns_;  // ascending, unique
    std::vector<render::MarkSpan> sink_spans_, global_spans_;
    // key position -> index in *_spans_ of its latest span (extended while the role is held row after row)
    std::unordered_map<int32_t, std::size_t> open_sink_span_, open_global_span_;
    std::vector<PyramidLevel> pyramid_;      // blocks 2, 4, ..., kMaxBlock
    uint64_t generation_ = 0;                // unique per process and per clear()
};

}  // namespace kvscope::gui
