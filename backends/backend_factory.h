#pragma once
// The one place a backend is chosen and made (DESIGN.md §5): the CLI, the
// desktop app's worker and, through a BackendFactory, the evaluations all
// come here. The CPU backend is always there; the CUDA backend (kernels/) is
// when the build has nvcc, and `auto` takes it when a usable device exists.
#include <memory>
#include <string>

#include "backend/backend.h"
#include "backends/backend_options.h"

namespace kvscope {

class Model;

// What each backend would do on this machine.
struct BackendAvailability {
    bool cuda_built = false;    // this build has the CUDA backend
    bool cuda_usable = false;   // and a device it can run on
    std::string cuda_device;    // "NVIDIA H200 (compute capability 9.0, 139.8 GiB)" when usable
    std::string cuda_reason;    // why not, when not usable: built without CUDA, no driver, no device, ...
    int cpu_threads = 1;        // the threads the CPU backend would use
};
BackendAvailability backend_availability(const BackendOptions& options = {});

// Lines for `kvscope-cli info`: each backend and what it would do here,
// and which one `auto` picks and why.
std::string describe_backends(const BackendOptions& options = {});

// The backend `options` ask for, for `model`. `auto` takes CUDA when a usable
// device exists and it computes the model, else the CPU. Asking for cuda
// where it cannot run throws kvscope::Error saying why. `note` (optional)
// receives one line: the backend chosen and, for auto, why.
std::unique_ptr<Backend> make_backend(const Model& model, const BackendOptions& options, std::string* note = nullptr);

// make_backend as a BackendFactory, for evaluations that make one backend per
// session (the choice is the same each time).
BackendFactory backend_factory(const BackendOptions& options);

}  // namespace kvscope
