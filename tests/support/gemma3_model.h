#pragma once
// The real Gemma 3 270M (Q4_K_M, scripts/fetch-gemma3), loaded once per test
// process. Not in the repository (253 MB): tests that need it skip when it is
// absent, except under CI (CI=true), whose .ci/run fetches it.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "model/model.h"
#include "support/model_path.h"

namespace kvscope::test {

inline constexpr const char* kGemma3FileName = "gemma-3-270m-q4_k_m.gguf";

// $KVSCOPE_GEMMA3_MODEL, else models_cache_dir()/<file> (model_path.h).
inline std::string gemma3_model_path() {
    if (const char* p = std::getenv("KVSCOPE_GEMMA3_MODEL"); p != nullptr && *p != '\0') return p;
    return models_cache_dir() + "/" + kGemma3FileName;
}

inline std::string gemma3_missing_message() {
    return "Gemma 3 270M not found at " + gemma3_model_path() +
           " (scripts/fetch-gemma3 fetches it; KVSCOPE_GEMMA3_MODEL overrides the path)";
}

// nullptr when the file is absent.
inline const Model* shared_gemma3() {
    static const std::unique_ptr<Model> model = []() -> std::unique_ptr<Model> {
        std::error_code ec;
        const std::string path = gemma3_model_path();
        return std::filesystem::is_regular_file(path, ec) ? Model::load(path) : nullptr;
    }();
    return model.get();
}

}  // namespace kvscope::test

// Declares `const Model* var`, Gemma 3, or ends the test: skipped normally,
// failed under CI.
#define REQUIRE_GEMMA3(var)                                                                           \
    const ::kvscope::Model* var = ::kvscope::test::shared_gemma3();                                   \
    if (var == nullptr) {                                                                             \
        if (::kvscope::test::running_in_ci()) FAIL() << ::kvscope::test::gemma3_missing_message();    \
        GTEST_SKIP() << ::kvscope::test::gemma3_missing_message();                                    \
    }
