// The colours the renderers use, as plain values (tests sample them back).
#pragma once

#include <cstdint>

namespace kvscope::render {

struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
    friend bool operator==(const Rgb&, const Rgb&) = default;
};

// Viridis (matplotlib's), t in [0, 1]; t outside is clamped.
Rgb viridis(double t);

// Cells whose key was not held (NaN values): solid grey, or grey hatched with
// the darker grey when HeatmapStyle::hatch_not_held is on.
inline constexpr Rgb kNotHeldGrey{190, 190, 190};
inline constexpr Rgb kNotHeldHatch{140, 140, 140};
inline constexpr Rgb kSinkColor{228, 26, 28};      // outline of attention-sink columns
inline constexpr Rgb kGlobalColor{255, 0, 255};    // outline of global columns (dashed)
inline constexpr Rgb kWindowEdgeColor{255, 140, 0};  // window edge line

}  // namespace kvscope::render
