#pragma once
// The CPU backend as a BackendFactory, for the evaluations' tests.
#include <memory>

#include "backend/cpu/cpu_backend.h"

namespace kvscope::test {

inline BackendFactory cpu_backends(int threads) {
    return [threads](const Model& model) { return std::make_unique<CpuBackend>(model, threads); };
}

}  // namespace kvscope::test
