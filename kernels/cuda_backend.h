#pragma once
// The CUDA backend (DESIGN.md §5): the decoder on an NVIDIA GPU through
// KVScope's own kernels, KV storage in device memory. It implements the
// engine's Backend interface and depends on the engine, never the reverse.
// This first version has the device query and refuses to run; the kernels
// come next.
#include <memory>
#include <string>

#include "backend/backend.h"
#include "kernels/cuda_device.h"
#include "model/model.h"

namespace kvscope {

class CudaBackend final : public Backend {
public:
    // Throws kvscope::Error when the device cannot be used (query_device's reason).
    CudaBackend(const Model& model, int device);

    std::string name() const override;
    std::string refusal(const Model& model) const override;
    std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) override;
    void forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                 float* logits, std::vector<QueryAttention>* capture = nullptr) override;
    BackendMemory memory() const override;

private:
    const Model& model_;
    int device_;
    cuda::DeviceQuery query_;
};

}  // namespace kvscope
