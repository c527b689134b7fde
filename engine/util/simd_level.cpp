#include "util/simd_level.h"

#include <atomic>
#include <cstdlib>

#include "quant/simd.h"
#include "util/error.h"

namespace kvscope {
namespace {

#if KVSCOPE_X86_SIMD
// __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 state.
bool cpu_has(const char* feature) {
    __builtin_cpu_init();
    if (std::string_view(feature) == "avx2") return __builtin_cpu_supports("avx2");
    if (std::string_view(feature) == "fma") return __builtin_cpu_supports("fma");
    if (std::string_view(feature) == "f16c") return __builtin_cpu_supports("f16c");
    if (std::string_view(feature) == "avx512f") return __builtin_cpu_supports("avx512f");
    if (std::string_view(feature) == "avx512vl") return __builtin_cpu_supports("avx512vl");
    if (std::string_view(feature) == "avx512bw") return __builtin_cpu_supports("avx512bw");
    if (std::string_view(feature) == "avx512dq") return __builtin_cpu_supports("avx512dq");
    return false;
}
#else
bool cpu_has(const char*) { return false; }
#endif

// What each level needs (the same lists as KVSCOPE_TARGET_* in quant/simd.h).
std::vector<const char*> features_of(SimdLevel level) {
    switch (level) {
    case SimdLevel::Scalar: return {};
    case SimdLevel::Avx2: return {"avx2", "fma", "f16c"};
    case SimdLevel::Avx512: return {"avx2", "fma", "f16c", "avx512f", "avx512vl", "avx512bw", "avx512dq"};
    }
    return {};
}

std::string missing_features(SimdLevel level) {
    std::string out;
    for (const char* f : features_of(level)) {
        if (cpu_has(f)) continue;
        if (!out.empty()) out.push_back(' ');
        out.append(f);
    }
    return out;
}

constexpr int kUnset = -1;
std::atomic<int> g_level{kUnset};

// Why `level` does not run here ("" when it does).
std::string why_not(SimdLevel level) {
    if (level != SimdLevel::Scalar && !KVSCOPE_X86_SIMD) return "this build has no x86 SIMD kernels";
    const std::string missing = missing_features(level);
    return missing.empty() ? "" : "this CPU lacks " + missing;
}

SimdLevel level_from_environment() {
    const char* env = std::getenv("KVSCOPE_SIMD");
    if (env == nullptr || *env == '\0') return best_simd_level();
    const auto level = parse_simd_level(env);
    if (!level) throw InvalidSetting(std::string("KVSCOPE_SIMD=") + env + ": unknown level (scalar, avx2, avx512)");
    if (!simd_level_runs_here(*level))
        throw InvalidSetting(std::string("KVSCOPE_SIMD=") + env + ": " + why_not(*level));
    return *level;
}

}  // namespace

const char* simd_level_name(SimdLevel level) {
    switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Avx512: return "avx512";
    }
    return "?";
}

std::optional<SimdLevel> parse_simd_level(std::string_view name) {
    for (SimdLevel l : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
        if (name == simd_level_name(l)) return l;
    return std::nullopt;
}

bool simd_level_runs_here(SimdLevel level) {
    if (level == SimdLevel::Scalar) return true;
    if (!KVSCOPE_X86_SIMD) return false;
    return missing_features(level).empty();
}

std::vector<SimdLevel> simd_levels_here() {
    std::vector<SimdLevel> out;
    for (SimdLevel l : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
        if (simd_level_runs_here(l)) out.push_back(l);
    return out;
}

SimdLevel best_simd_level() { return simd_levels_here().back(); }

SimdLevel active_simd_level() {
    int level = g_level.load(std::memory_order_relaxed);
    if (level == kUnset) {
        level = static_cast<int>(level_from_environment());
        int expected = kUnset;
        g_level.compare_exchange_strong(expected, level);
        level = g_level.load();
    }
    return static_cast<SimdLevel>(level);
}

void set_simd_level(SimdLevel level) {
    if (!simd_level_runs_here(level))
        throw InvalidSetting(std::string("SIMD level ") + simd_level_name(level) + ": " + why_not(level));
    g_level.store(static_cast<int>(level));
}

std::string simd_report() {
    if (!KVSCOPE_X86_SIMD) return "scalar (this build has no x86 SIMD kernels)";
    std::string have, lack;
    for (const char* f : features_of(SimdLevel::Avx512)) {
        std::string& list = cpu_has(f) ? have : lack;
        list.push_back(' ');
        list.append(f);
    }
    std::string out = std::string(simd_level_name(best_simd_level())) + " (this CPU:" + (have.empty() ? " none" : have);
    if (!lack.empty()) out += "; lacks" + lack;
    return out + ")";
}

}  // namespace kvscope
