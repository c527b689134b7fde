// The one-line description of a step under the plots, e.g.
// "step 12 · KV 3.4 MiB of 27.0 MiB full (−87 %) · host memory 612 MiB of 23.4 GiB · 9.8 ms/token · KL 0.012 · top-1 94 %".
#pragma once

#include <QString>

#include "plots/step_metrics.h"

namespace kvscope::gui {

// How much smaller (negative) or larger the held cache is than a full one,
// in whole percent: round(100 · (kv − full) / full). Only for full > 0.
int kv_change_percent(uint64_t kv_bytes, uint64_t kv_full_bytes);

// "−87 %", "+3 %", "0 %" (a real minus sign).
QString signed_percent(int percent);

// "host memory" on the CPU backend (the figures are the process's RSS), "VRAM" otherwise.
QString device_memory_name(bool device_is_host);

QString step_summary(const StepMetrics& m);

}  // namespace kvscope::gui
