#pragma once
// A perplexity sweep over a grid of cache settings: policies × windows ×
// sinks × KV value types, one perplexity run per valid combination.
//
// Grid expansion (sweep_plan):
//   full    one row per KV type (W and S do not apply: written as 0);
//   window  one row per W (S does not apply: 0);
//   sinks   one row per W × S. S = 0 is the plain window and is left to the
//           window rows (skipped silently when `window` is in the grid, run
//           as a window otherwise); S >= W cannot leave any window and is
//           kept as a row with a note and no numbers (not run).
//   tova, knorm, keydiff   one row per W, as its budget B;
//   h2o     one row per W, as its budget H + R (H = W / 2, R = W − H, as in its paper).
// The policies not marked sweepable in policy_registry.h (global: its pins
// are per text) are refused by sweep_plan.
#include <cstdint>
#include <string>
#include <vector>

#include "eval/perplexity.h"
#include "kv/kv_policy.h"

namespace kvscope {

struct SweepGrid {
    std::vector<PolicyKind> policies{PolicyKind::Full, PolicyKind::Window, PolicyKind::SinksWindow};
    std::vector<int32_t> windows;
    std::vector<int32_t> sinks{0};
    std::vector<KvValueType> kv_types{KvValueType::F16};
    PositionMode positions = PositionMode::Original;
    bool reference = true;  // measure mean KL and top-1 against a full cache (twice the work)
};

struct SweepRow {
    PolicyConfig policy;
    std::string note;          // non-empty: not run, and why
    uint64_t kv_bytes = 0;     // peak K/V bytes held
    double ppl = 0;
    double mean_kl = 0;        // NaN without a reference
    double top1 = 0;           // NaN without a reference
    int32_t n_scored = 0;
    bool ran() const { return note.empty(); }
};

// The registry's sweepable policies, in its order, and their names ("full, window, sinks, tova").
std::vector<PolicyKind> sweep_policies();
std::string sweep_policy_names();
// A row's size: the window W, the budget B (tova, knorm, keydiff) or h2o's H + R (the CSV's "window" column).
int32_t sweep_size(const PolicyConfig& policy);

// The rows to run, in grid order (policies, then KV types, then windows, then
// sinks), with the skipped combinations carrying their note. Throws
// InvalidSetting for an empty window list where a sized policy is asked
// for, a window < 1, sinks < 0, or a policy that is not sweepable.
std::vector<SweepRow> sweep_plan(const SweepGrid& grid);

// Progress of the whole sweep: row index (0-based) among the rows and the
// row's own perplexity progress. Return false to cancel.
using SweepProgress = std::function<bool(size_t row, size_t rows, int32_t done, int32_t total)>;

// Runs perplexity for every row of sweep_plan(grid); `base` gives the rest of
// the session options (sampling is irrelevant: tokens are forced).
std::vector<SweepRow> run_sweep(const Model& model, const std::vector<TokenId>& tokens, const SweepGrid& grid,
                                const SessionOptions& base, const BackendFactory& backend, const SweepProgress& progress = {});

// CSV with a header (window: the row's size, sweep_size): policy,window,sinks,kv_type,positions,kv_bytes,ppl,mean_kl,top1,n_scored,note
// (numbers left empty when a row did not run or has no reference). Written to
// a temporary file beside `path` and renamed over it; throws kvscope::Error
// naming the path when it cannot be written.
void write_sweep_csv(const std::vector<SweepRow>& rows, const std::string& path);
std::string sweep_csv(const std::vector<SweepRow>& rows);

}  // namespace kvscope
