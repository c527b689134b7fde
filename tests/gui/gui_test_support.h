#pragma once
// Helpers for the Qt Test suites under tests/gui: the real model (skip when it
// is absent, fail under CI=true, as tests/support/model_path.h does for the
// GoogleTest suites), a shared loaded model per process, and checks on grabbed
// images (a grab is never null, so only its pixels say what was painted).
#include <QtTest>

#include <QColor>
#include <QImage>

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

// Whether `img` holds more than one colour: something was painted on the background.
inline bool has_several_colours(const QImage& img) {
    const QImage rgb = img.convertToFormat(QImage::Format_RGB32);
    if (rgb.isNull()) return false;
    const QRgb first = rgb.pixel(0, 0);
    for (int y = 0; y < rgb.height(); ++y)
        for (int x = 0; x < rgb.width(); ++x)
            if (rgb.pixel(x, y) != first) return true;
    return false;
}

// Whether some pixel of `img` is exactly `colour` (alpha ignored).
inline bool contains_colour(const QImage& img, const QColor& colour) {
    const QImage rgb = img.convertToFormat(QImage::Format_RGB32);
    const QRgb want = colour.rgb() & 0xffffffu;
    for (int y = 0; y < rgb.height(); ++y)
        for (int x = 0; x < rgb.width(); ++x)
            if ((rgb.pixel(x, y) & 0xffffffu) == want) return true;
    return false;
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
