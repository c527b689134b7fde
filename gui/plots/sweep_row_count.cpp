#include "plots/sweep_row_count.h"

#include <algorithm>
#include <limits>

namespace kvscope::gui {

namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > kSaturated - b ? kSaturated : a + b; }

uint64_t saturating_mul(uint64_t a, uint64_t b) {
    if (a == 0 || b == 0) return 0;
    return a > kSaturated / b ? kSaturated : a * b;
}

}  // namespace

uint64_t sweep_row_count(const SweepGrid& grid) {
    // Mirrors sweep_plan's expansion (eval/sweep.cpp): full gives one row per
    // KV type, window one per W, sinks one per W × S where S = 0 is left to
    // the window rows when `window` is in the grid, tova, knorm, keydiff and h2o one per W (their budget).
    const bool has_window = std::find(grid.policies.begin(), grid.policies.end(), PolicyKind::Window) != grid.policies.end();
    const auto zero_sinks = static_cast<uint64_t>(std::count(grid.sinks.begin(), grid.sinks.end(), 0));
    const uint64_t sinks_per_window = static_cast<uint64_t>(grid.sinks.size()) - (has_window ? zero_sinks : 0);
    const auto windows = static_cast<uint64_t>(grid.windows.size());
    uint64_t per_kv_type = 0;
    for (PolicyKind kind : grid.policies) {
        switch (kind) {
            case PolicyKind::Full: per_kv_type = saturating_add(per_kv_type, 1); break;
            case PolicyKind::Window:
            case PolicyKind::H2O:
            case PolicyKind::Tova:
            case PolicyKind::Knorm:
            case PolicyKind::KeyDiff: per_kv_type = saturating_add(per_kv_type, windows); break;
            case PolicyKind::SinksWindow:
                per_kv_type = saturating_add(per_kv_type, saturating_mul(windows, sinks_per_window));
                break;
            case PolicyKind::Global: break;  // sweep_plan refuses it
        }
    }
    return saturating_mul(per_kv_type, static_cast<uint64_t>(grid.kv_types.size()));
}

}  // namespace kvscope::gui
