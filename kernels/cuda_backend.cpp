#include "kernels/cuda_backend.h"

#include "util/error.h"

namespace kvscope {

namespace {
// Until the kernels arrive (the next step of the GPU path), the backend
// refuses every model with this, and `auto` falls back to the CPU saying so.
constexpr const char* kNotYet = "the CUDA backend has its device query but no decoder kernels yet";
}  // namespace

CudaBackend::CudaBackend(const Model& model, int device)
    : model_(model), device_(device), query_(cuda::query_device(device)) {
    if (!query_.usable) throw Error("the CUDA backend cannot run: " + query_.reason);
}

std::string CudaBackend::name() const { return "CUDA " + std::to_string(device_) + " (" + query_.name + ")"; }

std::string CudaBackend::refusal(const Model&) const { return kNotYet; }

std::unique_ptr<KvStorage> CudaBackend::create_kv_storage(const KvLayout&) { throw Error(kNotYet); }

void CudaBackend::forward(const std::vector<int32_t>&, const std::vector<int32_t>&, KvCache&, float*,
                          std::vector<QueryAttention>*) {
    throw Error(kNotYet);
}

BackendMemory CudaBackend::memory() const {
    BackendMemory m;
    m.weights_bytes = model_.weights().total_bytes;
    m.device_total = query_.total_bytes;
    m.device_is_host = false;
    m.device_name = query_.name;
    return m;
}

}  // namespace kvscope
