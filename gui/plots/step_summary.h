// The one-line description of a step under the plots, e.g.
// "step 12 · KV 3.4 MiB of 27.0 MiB full (−87 %) · host memory 612 MiB of 23.4 GiB · 9.8 ms/token · KL 0.012 · top-1 94 %".
#pragma once

#include <QString>

#include "plots/step_metrics.h"

namespace kvscope::gui {

// The largest percentage kv_change_percent returns: a held cache a million
// percent larger than a full one only comes from corrupt figures, and
// 100 · kv / full would overflow an int long before 2^64 bytes.
inline constexpr int kMaxKvChangePercent = 1'000'000;

// How much smaller (negative) or larger the held cache is than a full one,
// in whole percent: round(100 · (kv − full) / full), clamped to
// [−100, kMaxKvChangePercent]; 0 when full is 0 (no comparison to make).
int kv_change_percent(uint64_t kv_bytes, uint64_t kv_full_bytes);

// "−87 %", "+3 %", "0 %" (a real minus sign); any int, INT_MIN included.
QString signed_percent(int percent);

// "host memory" on the CPU backend (the figures are the process's RSS), "VRAM" otherwise.
QString device_memory_name(bool device_is_host);

QString step_summary(const StepMetrics& m);

}  // namespace kvscope::gui
