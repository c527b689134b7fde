#include "plots/step_summary.h"

#include <QStringList>

#include <algorithm>
#include <cmath>

#include "render/byte_format.h"

namespace kvscope::gui {

int kv_change_percent(uint64_t kv_bytes, uint64_t kv_full_bytes) {
    if (kv_full_bytes == 0) return 0;
    const double kv = static_cast<double>(kv_bytes), full = static_cast<double>(kv_full_bytes);
    // Finite (full >= 1, |kv − full| < 2^64), but up to ~1.8e21: clamped
    // before rounding, as lround and the int cast would overflow.
    const double change = 100.0 * (kv - full) / full;
    return static_cast<int>(std::lround(std::clamp(change, -100.0, static_cast<double>(kMaxKvChangePercent))));
}

QString signed_percent(int percent) {
    // Negated in 64 bits: −INT_MIN does not fit an int.
    if (percent < 0) return QStringLiteral("\u2212%1 %").arg(-static_cast<qint64>(percent));
    if (percent > 0) return QStringLiteral("+%1 %").arg(percent);
    return QStringLiteral("0 %");
}

QString device_memory_name(bool device_is_host) {
    return device_is_host ? QStringLiteral("host memory") : QStringLiteral("VRAM");
}

QString step_summary(const StepMetrics& m) {
    QStringList parts;
    parts << QStringLiteral("step %1").arg(m.step);

    QString kv = QStringLiteral("KV %1 of %2 full").arg(render::format_bytes(m.memory.kv_bytes), render::format_bytes(m.memory.kv_full_bytes));
    if (m.memory.kv_full_bytes > 0) {
        const int percent = kv_change_percent(m.memory.kv_bytes, m.memory.kv_full_bytes);
        // At the ceiling the change may be larger still: say so.
        const QString at_least = percent >= kMaxKvChangePercent ? QStringLiteral("\u2265 ") : QString();
        kv += QStringLiteral(" (%1%2)").arg(at_least, signed_percent(percent));
    }
    parts << kv;

    QString device = QStringLiteral("%1 %2").arg(device_memory_name(m.memory.device_is_host), render::format_bytes(m.memory.device_used));
    if (m.memory.device_total > 0) device += QStringLiteral(" of %1").arg(render::format_bytes(m.memory.device_total));
    parts << device;

    parts << QStringLiteral("%1 ms/token").arg(m.total_ms, 0, 'f', 1);

    if (m.has_reference) {
        parts << QStringLiteral("KL %1").arg(m.kl, 0, 'f', 3);
        parts << QStringLiteral("top-1 %1 %").arg(std::lround(100.0 * m.running_top1()));
    } else {
        parts << QStringLiteral("reference run off");
    }
    return parts.join(QStringLiteral(" \u00b7 "));
}

}  // namespace kvscope::gui
