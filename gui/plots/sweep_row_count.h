// How many rows a sweep grid expands to, counted without expanding it: the
// grid editor and the dialog refuse a grid over kMaxSweepRows before
// sweep_plan() allocates its rows and the dialog its one progress bar per row.
#pragma once

#include <cstdint>

#include "eval/sweep.h"

namespace kvscope::gui {

// The most rows one sweep may have. Each row is a table row with its own
// progress bar and a full perplexity run; thousands would hang the GUI long
// before the sweep could finish.
inline constexpr uint64_t kMaxSweepRows = 512;

// sweep_plan(grid).size() (skipped rows included, as the table shows them),
// saturating at UINT64_MAX instead of overflowing. Does not check the grid:
// sweep_plan's own errors are left to it.
uint64_t sweep_row_count(const SweepGrid& grid);

}  // namespace kvscope::gui
