// Pooling recent attention rows into small per-(layer, head) matrices for the
// layer x head thumbnail grid: rows = the query tokens, columns = key text
// positions pooled (max) into at most `max_columns` bins.
#pragma once

#include <QImage>
#include <QString>

#include <cstdint>
#include <vector>

#include "session/step_snapshot.h"

namespace kvscope::gui {

struct PooledAttention {
    int32_t n_layer = 0, n_head = 0;
    int32_t n_rows = 0;       // query tokens
    int32_t n_columns = 0;    // key bins
    int32_t n_positions = 0;  // key positions 0 .. n_positions-1 spread over the bins
    std::vector<float> values;  // [n_layer][n_head][n_rows][n_columns] max probability in the bin; NaN = no key held there
    std::vector<float> max;     // [n_layer][n_head] largest value (0 when none)
    int64_t non_finite = 0;     // probabilities that were NaN or infinite (pooled as 0)

    // The bin of key position `p`: p * n_columns / n_positions.
    int32_t columnOf(int32_t position) const;
    float at(int32_t layer, int32_t head, int32_t row, int32_t column) const;
};

// Pools `rows` (oldest first; every row must have n_layer layers whose probs
// are [n_head][n_keys]). Returns "" or an error naming the bad row / layer
// (also for a negative key position or one of INT32_MAX, which leaves no room
// for the position count); on error `out` is left empty. A NaN or infinite
// probability is pooled as 0 (its key is held) and counted in `non_finite`.
QString poolAttention(const std::vector<QueryAttention>& rows, int32_t n_layer, int32_t n_head, int32_t max_columns,
                      PooledAttention& out);

// The thumbnail of one (layer, head): [n_rows x n_columns] pixels, viridis of
// sqrt(value / max) (square root so weaker structure stays visible beside the
// sink column), not-held bins in render::kNotHeldGrey.
QImage thumbnailImage(const PooledAttention& pooled, int32_t layer, int32_t head);

// The colour thumbnailImage gives a bin of `value` in a thumbnail whose
// largest value is `max`: NaN value -> not-held grey; an infinite value or a
// max that is not finite and positive -> the bottom of the colour map.
QRgb thumbnailColor(float value, float max);

}  // namespace kvscope::gui
