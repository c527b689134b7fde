#include "render/byte_format.h"

namespace kvscope::render {

QString format_bytes(uint64_t bytes) {
    static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes);
    double value = static_cast<double>(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit + 1 < 4) {
        value /= 1024.0;
        ++unit;
    }
    // 1023.96 MiB would print as "1024 MiB": move it to the next unit instead.
    if (value >= 1023.5 && unit + 1 < 4) {
        value /= 1024.0;
        ++unit;
    }
    const int decimals = value < 99.95 ? 1 : 0;
    return QStringLiteral("%1 %2").arg(value, 0, 'f', decimals).arg(QLatin1String(kUnits[unit]));
}

}  // namespace kvscope::render
