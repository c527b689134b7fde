#include "backends/backend_factory.h"

#include "backend/cpu/cpu_backend.h"
#include "util/error.h"

#if KVSCOPE_HAVE_CUDA
#include "kernels/cuda_backend.h"
#include "kernels/cuda_device.h"
#endif

namespace kvscope {

BackendAvailability backend_availability(const BackendOptions& options) {
    BackendAvailability a;
    a.cpu_threads = options.cpu_threads();
#if KVSCOPE_HAVE_CUDA
    a.cuda_built = true;
    const cuda::DeviceQuery q = cuda::query_device(options.device);
    a.cuda_usable = q.usable;
    a.cuda_device = q.usable ? q.description() : std::string();
    a.cuda_reason = q.reason;
#else
    a.cuda_reason = "this build has no CUDA backend (built without nvcc, or with KVSCOPE_CUDA=OFF)";
#endif
    return a;
}

std::string describe_backends(const BackendOptions& options) {
    const BackendAvailability a = backend_availability(options);
    std::string s = "backend cpu: available, " + std::to_string(a.cpu_threads) + " threads\n";
    s += "backend cuda: " + (a.cuda_usable ? "available, device " + std::to_string(options.device) + ": " + a.cuda_device
                                           : "not available: " + a.cuda_reason) +
         "\n";
    s += std::string("backend auto: ") + (a.cuda_usable ? "cuda" : "cpu (" + a.cuda_reason + ")") + "\n";
    return s;
}

std::unique_ptr<Backend> make_backend(const Model& model, const BackendOptions& options, std::string* note) {
    options.validate();
    auto say = [note](const std::string& line) {
        if (note != nullptr) *note = line;
    };
    auto cpu = [&](const std::string& why) {
        auto b = std::make_unique<CpuBackend>(model, options.cpu_threads());
        say("backend: CPU, " + std::to_string(b->threads()) + " threads" + (why.empty() ? "" : " (" + why + ")"));
        return b;
    };
    if (options.kind == BackendKind::Cpu) return cpu("");
    const BackendAvailability a = backend_availability(options);
#if KVSCOPE_HAVE_CUDA
    if (a.cuda_usable) {
        auto cuda_backend = std::make_unique<CudaBackend>(model, options.device);
        const std::string refusal = cuda_backend->refusal(model);
        if (refusal.empty()) {
            say("backend: " + cuda_backend->name());
            return cuda_backend;
        }
        if (options.kind == BackendKind::Cuda) throw Error(refusal);
        return cpu("auto: " + refusal);
    }
#endif
    if (options.kind == BackendKind::Cuda) throw Error("the CUDA backend cannot run: " + a.cuda_reason);
    return cpu("auto: " + a.cuda_reason);
}

BackendFactory backend_factory(const BackendOptions& options) {
    options.validate();
    return [options](const Model& model) { return make_backend(model, options); };
}

}  // namespace kvscope
