#pragma once
// Which instruction set the CPU kernels use. Every level gives the same bits
// (the scalar kernels emulate the SIMD lanes' operation order), so the level
// only changes speed. The best level the CPU runs is chosen at start; the
// environment variable KVSCOPE_SIMD=scalar|avx2|avx512 or set_simd_level()
// (tests, benchmarks) choose another.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvscope {

enum class SimdLevel { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* simd_level_name(SimdLevel level);
std::optional<SimdLevel> parse_simd_level(std::string_view name);

// Whether this build has kernels for `level` and this CPU (and its OS) runs them.
bool simd_level_runs_here(SimdLevel level);
// Every level that runs here, lowest first (Scalar always).
std::vector<SimdLevel> simd_levels_here();
// The best level that runs here.
SimdLevel best_simd_level();

// The level the kernels use now. The first call reads KVSCOPE_SIMD and throws
// InvalidSetting (one line) if it names an unknown level or one this CPU lacks.
SimdLevel active_simd_level();
// Throws InvalidSetting (naming what the CPU lacks) if the level does not run here.
void set_simd_level(SimdLevel level);

// One line for `info` and benchmarks, e.g. "avx2 (this CPU: avx2 fma f16c; no avx512f)".
std::string simd_report();

}  // namespace kvscope
