#pragma once
// The real SmolLM2 model, loaded once per test process and shared by every
// test that needs it (loading maps 98 MB and builds the tokenizer).
#include <gtest/gtest.h>

#include <memory>

#include "model/model.h"
#include "support/model_path.h"

namespace kvscope::test {

// nullptr when the model file is not found (see model_path.h).
inline const Model* shared_model() {
    static const std::unique_ptr<Model> model = []() -> std::unique_ptr<Model> {
        const auto path = find_model();
        return path ? Model::load(*path) : nullptr;
    }();
    return model.get();
}

}  // namespace kvscope::test

// Declares `const Model* var`, the shared model, or ends the test: skipped
// normally, failed under CI (where the model must be there).
#define REQUIRE_SHARED_MODEL(var)                                                                   \
    const ::kvscope::Model* var = ::kvscope::test::shared_model();                                  \
    if (var == nullptr) {                                                                           \
        if (::kvscope::test::running_in_ci()) FAIL() << ::kvscope::test::model_missing_message();   \
        GTEST_SKIP() << ::kvscope::test::model_missing_message();                                   \
    }
