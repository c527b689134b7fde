#pragma once
// The real SmolLM2 model, loaded once per test process and shared by every
// test that needs it (loading maps 98 MB and builds the tokenizer).
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
