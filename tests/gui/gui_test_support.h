#pragma once
// Helpers for the Qt Test suites under tests/gui: the real model (skip when it
// is absent, fail under CI=true, as tests/support/model_path.h does for the
// GoogleTest suites), and a shared loaded model per process.
#include <QtTest>

#include <memory>
#include <optional>
#include <string>

#include "model/model.h"
#include "support/model_path.h"

namespace kvscope::test {

// The model loaded once per test process; nullptr when the file is not found.
inline const Model* gui_shared_model() {
    static const std::unique_ptr<Model> model = []() -> std::unique_ptr<Model> {
        const auto path = find_model();
        if (!path) return nullptr;
        return Model::load(*path);
    }();
    return model.get();
}

}  // namespace kvscope::test

// Declares `const std::string var` with the model's path, or ends the test
// function: QSKIP normally, QFAIL under CI=true.
#define KVSCOPE_QTEST_REQUIRE_MODEL_PATH(var)                                                  \
    const std::optional<std::string> var##_found = ::kvscope::test::find_model();              \
    if (!var##_found) {                                                                        \
        if (::kvscope::test::running_in_ci())                                                  \
            QFAIL(::kvscope::test::model_missing_message().c_str());                           \
        QSKIP(::kvscope::test::model_missing_message().c_str());                               \
    }                                                                                          \
    const std::string var = *var##_found

// Declares `const kvscope::Model& var` (the shared loaded model), or ends the test.
#define KVSCOPE_QTEST_REQUIRE_MODEL(var)                                                       \
    const ::kvscope::Model* var##_ptr = ::kvscope::test::gui_shared_model();                   \
    if (var##_ptr == nullptr) {                                                                \
        if (::kvscope::test::running_in_ci())                                                  \
            QFAIL(::kvscope::test::model_missing_message().c_str());                           \
        QSKIP(::kvscope::test::model_missing_message().c_str());                               \
    }                                                                                          \
    const ::kvscope::Model& var = *var##_ptr
