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
// Cache-slot roles, one palette for every view and figure (Okabe-Ito: stays
// distinguishable under the common colour-vision deficiencies).
inline constexpr Rgb kRoleSinkColor{213, 94, 0};         // vermillion
inline constexpr Rgb kRoleGlobalColor{204, 121, 167};    // reddish purple
inline constexpr Rgb kRoleWindowColor{86, 180, 233};     // sky blue
inline constexpr Rgb kRoleHeavyHitterColor{0, 158, 115}; // bluish green

inline constexpr Rgb kSinkColor = kRoleSinkColor;      // outline of attention-sink columns
inline constexpr Rgb kGlobalColor = kRoleGlobalColor;  // outline of global columns (dashed)
inline constexpr Rgb kWindowEdgeColor{255, 140, 0};    // window edge line

// 256 samples of viridis (index i = viridis(i / 255)), for per-pixel lookups.
const Rgb* viridis_table();

}  // namespace kvscope::render
