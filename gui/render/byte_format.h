// Byte counts as people read them: binary units (B, KiB, MiB, GiB, TiB).
#pragma once

#include <QString>

#include <cstdint>

namespace kvscope::render {

inline constexpr double kKiB = 1024.0;
inline constexpr double kMiB = 1024.0 * 1024.0;
inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// "512 B", "3.4 KiB", "27.0 MiB", "612 MiB", "23.4 GiB": the largest unit that
// keeps the value >= 1, one decimal below 100 and none from 100 on.
QString format_bytes(uint64_t bytes);

}  // namespace kvscope::render
