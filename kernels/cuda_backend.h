#pragma once
// The CUDA backend (DESIGN.md §5): the llama forward pass on an NVIDIA GPU
// through KVScope's own kernels (ops.h), weights and KV cache in device
// memory. It implements the engine's Backend interface and depends on the
// engine, never the reverse. Each forward call uploads the step's small
// bookkeeping (tokens, positions, slots, held slot lists) in one copy, runs
// every layer's kernels on one stream, and copies the logits (and, with
// capture, every layer's attention probabilities) back once, into pinned
// host memory.
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "kernels/cuda_device.h"
#include "kernels/cuda_memory.h"
#include "kernels/nvml_memory.h"
#include "model/model.h"

namespace kvscope {

class CudaBackend final : public Backend {
public:
    // Throws kvscope::Error when the device cannot be used (query_device's
    // reason) or the weights do not fit (what and how much was free).
    CudaBackend(const Model& model, int device);
    ~CudaBackend() override;

    std::string name() const override;
    // The model's weight types against the kernels' (ops.h matvec_supports).
    std::string refusal(const Model& model) const override;
    std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) override;
    void forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                 float* logits, std::vector<QueryAttention>* capture = nullptr) override;
    // Device used/total from NVML (this process's use too), cudaMemGetInfo
    // where NVML is missing; the tally: weights, scratch (capture included).
    BackendMemory memory() const override;

private:
    struct DeviceMatrix {
        cuda::DeviceBuffer data;
        TensorType type = TensorType::F32;
        size_t row_bytes = 0;
        int rows = 0, cols = 0;
    };
    struct DeviceLayer {
        cuda::DeviceBuffer attn_norm, ffn_norm;  // [n_embd] f32
        DeviceMatrix wq, wk, wv, wo, w_gate, w_up, w_down;
    };
    DeviceMatrix upload(const WeightMatrix& m);
    cuda::DeviceBuffer upload_floats(const std::vector<float>& v, const std::string& what);
    void matvec(const DeviceMatrix& m, float* out, int T);
    void ensure_scratch(int T, int max_keys, bool capture);

    const Model& model_;
    int device_;
    cuda::DeviceQuery query_;
    void* stream_ = nullptr;  // cudaStream_t
    std::unique_ptr<cuda::NvmlMemory> nvml_;
    size_t weights_bytes_ = 0;

    DeviceMatrix token_embd_, output_;
    bool output_is_embd_ = false;
    cuda::DeviceBuffer output_norm_;
    std::vector<DeviceLayer> layers_;

    // Scratch for T tokens (the largest batch seen):
    int scratch_tokens_ = 0, scratch_keys_ = 0;
    bool scratch_capture_ = false;
    cuda::DeviceBuffer x_, xn_;       // [T][n_embd]
    cuda::DeviceBuffer q_, attn_;     // [T][n_head][head_dim]
    cuda::DeviceBuffer k_, v_;        // [T][n_head_kv][head_dim]
    cuda::DeviceBuffer proj_;         // [T][n_embd]
    cuda::DeviceBuffer gate_, up_;    // [T][n_ff]
    cuda::DeviceBuffer xq_;           // [T][max(n_embd, q_dim, n_ff) / 32] q8_1 blocks
    cuda::DeviceBuffer logits_;       // [n_vocab]
    cuda::DeviceBuffer probs_;        // [n_layer or 1][T][n_head][max_keys] attention (the capture)
    cuda::DeviceBuffer ints_;         // the step's bookkeeping (layout in forward)
    cuda::PinnedBuffer ints_host_;    // its staging copy
    cuda::PinnedBuffer logits_host_;  // [n_vocab]
    cuda::PinnedBuffer probs_host_;   // the capture, copied back
};

}  // namespace kvscope
