#include "kernels/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cuda_kv_storage.h"
#include "kernels/ops.h"
#include "util/error.h"

namespace kvscope {
namespace {

size_t sz(int64_t n) { return static_cast<size_t>(n); }

cudaStream_t stream_of(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace

CudaBackend::CudaBackend(const Model& model, int device)
    : model_(model), device_(device), query_(cuda::query_device(device)) {
    if (!query_.usable) throw Error("the CUDA backend cannot run: " + query_.reason);
    cuda::check(cudaSetDevice(device), "cudaSetDevice");
    cudaStream_t s = nullptr;
    cuda::check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    stream_ = s;
    nvml_ = std::make_unique<cuda::NvmlMemory>(device);
    if (!refusal(model).empty()) return;  // nothing uploaded: the factory reads the refusal and goes elsewhere
    const ModelWeights& w = model.weights();
    token_embd_ = upload(w.token_embd);
    output_is_embd_ = w.tied_output;
    if (!output_is_embd_) output_ = upload(w.output);
    output_norm_ = upload_floats(w.output_norm, "the output norm");
    for (const LayerWeights& l : w.layers) {
        DeviceLayer d;
        d.attn_norm = upload_floats(l.attn_norm, "a norm");
        d.ffn_norm = upload_floats(l.ffn_norm, "a norm");
        d.wq = upload(l.wq);
        d.wk = upload(l.wk);
        d.wv = upload(l.wv);
        d.wo = upload(l.wo);
        d.w_gate = upload(l.w_gate);
        d.w_up = upload(l.w_up);
        d.w_down = upload(l.w_down);
        layers_.push_back(std::move(d));
    }
}

CudaBackend::~CudaBackend() {
    if (stream_ != nullptr) cudaStreamDestroy(stream_of(stream_));
}

CudaBackend::DeviceMatrix CudaBackend::upload(const WeightMatrix& m) {
    DeviceMatrix d;
    const size_t bytes = m.row_stride * sz(m.rows);
    d.data = cuda::DeviceBuffer(bytes, "weight '" + m.name + "'");
    cuda::check(cudaMemcpy(d.data.get(), m.data, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
    d.type = m.type;
    d.row_bytes = m.row_stride;
    d.rows = static_cast<int>(m.rows);
    d.cols = static_cast<int>(m.cols);
    weights_bytes_ += bytes;
    return d;
}

cuda::DeviceBuffer CudaBackend::upload_floats(const std::vector<float>& v, const std::string& what) {
    cuda::DeviceBuffer b(v.size() * sizeof(float), what);
    cuda::check(cudaMemcpy(b.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy (norms)");
    weights_bytes_ += v.size() * sizeof(float);
    return b;
}

std::string CudaBackend::name() const { return "CUDA " + std::to_string(device_) + " (" + query_.name + ")"; }

std::string CudaBackend::refusal(const Model& model) const {
    const ModelConfig& c = model.config();
    if (c.qk_norm || c.post_norms || c.ffn_activation != FfnActivation::Silu || c.native_window > 0)
        return "the CUDA backend computes the llama architecture only; " + c.architecture +
               " (q/k norms, post norms, GeGLU, sliding-window layers) runs on the CPU backend";
    if (c.qkv_bias)
        return "the CUDA backend does not add Q/K/V projection biases yet; " + c.architecture + " runs on the CPU backend";
    const ModelWeights& w = model.weights();
    if (!w.rope_freq_factors.empty())
        return "the CUDA backend does not apply RoPE frequency factors (rope_freqs.weight, Llama 3) yet; "
               "this model runs on the CPU backend";
    std::vector<const WeightMatrix*> matrices = {&w.token_embd, &w.output};
    for (const LayerWeights& l : w.layers)
        for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) matrices.push_back(m);
    for (const WeightMatrix* m : matrices) {
        if (!cuda::matvec_supports(m->type))
            return "the CUDA backend does not compute tensor '" + m->name + "' of type " + tensor_type_name(m->type) +
                   " (it computes " + computable_type_names() + ")";
        if (m->cols % 32 != 0)
            return "the CUDA backend needs rows of a multiple of 32 values; tensor '" + m->name + "' has " +
                   std::to_string(m->cols);
    }
    if (c.head_dim > 1024 || c.n_head % c.n_head_kv != 0)
        return "the CUDA backend's attention takes head sizes up to 1024 and whole GQA groups";
    return {};
}

std::unique_ptr<KvStorage> CudaBackend::create_kv_storage(const KvLayout& layout) {
    cuda::check(cudaSetDevice(device_), "cudaSetDevice");
    return std::make_unique<CudaKvStorage>(layout);
}

void CudaBackend::ensure_scratch(int T, int max_keys, bool capture) {
    const ModelConfig& c = model_.config();
    if (T > scratch_tokens_) {
        scratch_tokens_ = T;
        const size_t t = sz(T);
        x_.ensure(t * sz(c.n_embd) * 4, "activations");
        xn_.ensure(t * sz(c.n_embd) * 4, "activations");
        q_.ensure(t * sz(c.q_dim()) * 4, "activations");
        attn_.ensure(t * sz(c.q_dim()) * 4, "activations");
        k_.ensure(t * sz(c.kv_dim()) * 4, "activations");
        v_.ensure(t * sz(c.kv_dim()) * 4, "activations");
        proj_.ensure(t * sz(c.n_embd) * 4, "activations");
        gate_.ensure(t * sz(c.n_ff) * 4, "activations");
        up_.ensure(t * sz(c.n_ff) * 4, "activations");
        const int widest = std::max({c.n_embd, c.q_dim(), c.n_ff});
        xq_.ensure(t * sz(widest / 32) * sizeof(quant::BlockQ8_1), "quantised activations");
        logits_.ensure(sz(c.n_vocab) * 4, "logits");
        logits_host_.ensure(sz(c.n_vocab) * 4, "logits");
    }
    // The attention probabilities: every layer's when captured, else one layer's, reused.
    const size_t layers = capture ? sz(c.n_layer) : 1;
    const size_t need = layers * sz(T) * sz(c.n_head) * sz(std::max(1, max_keys)) * 4;
    probs_.ensure(need, capture ? "the attention capture (every layer and head)" : "attention scores");
    if (capture) probs_host_.ensure(need, "the attention capture");
    scratch_keys_ = std::max(scratch_keys_, max_keys);
    scratch_capture_ = scratch_capture_ || capture;
}

void CudaBackend::matvec(const DeviceMatrix& m, float* out, int T) {
    cuda::matvec(stream_, m.data.get(), m.type, m.row_bytes, m.rows, m.cols, xq_.as<quant::BlockQ8_1>(), xn_.as<float>(),
                 out, T);
}

void CudaBackend::forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                          float* logits, std::vector<QueryAttention>* capture) {
    if (tokens.empty() || tokens.size() != positions.size()) throw Error("forward: tokens and positions must match");
    auto* storage = dynamic_cast<CudaKvStorage*>(&cache.storage());
    if (storage == nullptr)
        throw Error("the CUDA backend cannot compute with a KV cache held in " + cache.storage().backend_name() + " memory");
    if (layers_.empty()) throw Error(refusal(model_));  // the weights were not uploaded: the model was refused
    cuda::check(cudaSetDevice(device_), "cudaSetDevice");
    const ModelConfig& c = model_.config();
    const int T = static_cast<int>(tokens.size());
    const int L = c.n_layer;
    for (int32_t tok : tokens)
        if (tok < 0 || tok >= c.n_vocab)
            throw Error("token id " + std::to_string(tok) + " is outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")");

    // The step's bookkeeping, as ints: [tokens T][positions T][slots L×T][n_visible L×T][held slots of every layer].
    std::vector<int32_t> held_offset(sz(L) + 1, 0);
    int max_keys = 1;
    for (int l = 0; l < L; ++l) {
        held_offset[sz(l) + 1] = held_offset[sz(l)] + cache.held_count(l);
        max_keys = std::max(max_keys, cache.held_count(l));
    }
    const size_t n_ints = sz(2 * T + 2 * L * T) + sz(held_offset.back());
    ints_host_.ensure(n_ints * 4, "the step's bookkeeping");
    ints_.ensure(n_ints * 4, "the step's bookkeeping");
    int32_t* h = ints_host_.as<int32_t>();
    std::copy(tokens.begin(), tokens.end(), h);
    std::copy(positions.begin(), positions.end(), h + T);
    int32_t* slots = h + 2 * T;
    int32_t* visible = slots + L * T;
    int32_t* held_all = visible + L * T;
    std::vector<std::vector<int32_t>> key_positions(sz(L));  // [layer][held] positions in order, for the capture
    for (int l = 0; l < L; ++l) {
        const std::vector<int32_t>& held = cache.held_slots(l);
        std::copy(held.begin(), held.end(), held_all + held_offset[sz(l)]);
        std::vector<int32_t>& kp = key_positions[sz(l)];
        kp.resize(held.size());
        for (size_t j = 0; j < held.size(); ++j) kp[j] = cache.position_of(l, held[j]);
        for (int t = 0; t < T; ++t) {
            const int32_t slot = cache.slot_of(l, positions[sz(t)]);
            if (slot == KvCache::kEmpty)
                throw Error("forward: position " + std::to_string(positions[sz(t)]) + " has no slot in layer " + std::to_string(l));
            slots[l * T + t] = slot;
            // Causal: a token sees the held positions up to its own (held is ordered by position).
            visible[l * T + t] = static_cast<int32_t>(std::upper_bound(kp.begin(), kp.end(), positions[sz(t)]) - kp.begin());
        }
    }
    const bool capturing = capture != nullptr;
    ensure_scratch(T, max_keys, capturing);
    const cudaStream_t s = stream_of(stream_);
    cuda::check(cudaMemcpyAsync(ints_.get(), h, n_ints * 4, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync (bookkeeping)");
    const int32_t* d_tokens = ints_.as<int32_t>();
    const int32_t* d_positions = d_tokens + T;
    const int32_t* d_slots = d_tokens + 2 * T;
    const int32_t* d_visible = d_slots + L * T;
    const int32_t* d_held = d_visible + L * T;

    const int E = c.n_embd;
    const bool neox = c.rope_layout == RopeLayout::Neox;
    const bool in_cache = cache.position_mode() == PositionMode::InCache;
    float* x = x_.as<float>();
    float* xn = xn_.as<float>();
    auto* xq = xq_.as<quant::BlockQ8_1>();
    cuda::embed(stream_, token_embd_.data.get(), token_embd_.type, token_embd_.row_bytes, E, d_tokens, T, x);
    for (int l = 0; l < L; ++l) {
        const DeviceLayer& W = layers_[sz(l)];
        // --- attention block ---
        cuda::rms_norm(stream_, x, W.attn_norm.as<float>(), xn, E, T, c.rms_eps);
        cuda::quantize_q8_1(stream_, xn, xq, E, T);
        matvec(W.wq, q_.as<float>(), T);
        matvec(W.wk, k_.as<float>(), T);
        matvec(W.wv, v_.as<float>(), T);
        if (!in_cache) {  // in-cache mode rotates Q and K at their ranks inside attention
            cuda::rope(stream_, q_.as<float>(), c.q_dim(), c.n_head, c.head_dim, c.rope_dim, neox, d_positions, T, c.rope_freq_base);
            cuda::rope(stream_, k_.as<float>(), c.kv_dim(), c.n_head_kv, c.head_dim, c.rope_dim, neox, d_positions, T,
                       c.rope_freq_base);
        }
        cuda::kv_store(stream_, k_.as<float>(), v_.as<float>(), c.kv_dim(), d_slots + l * T, T, storage->k_pages(l),
                       storage->v_pages(l), storage->slot_bytes(), cache.value_type());
        cuda::AttentionArgs a;
        a.q = q_.as<float>();
        a.out = attn_.as<float>();
        a.probs = probs_.as<float>() + (capturing ? sz(l) * sz(T) * sz(c.n_head) * sz(max_keys) : 0);
        a.max_keys = max_keys;
        a.held_slots = d_held + held_offset[sz(l)];
        a.n_visible = d_visible + l * T;
        a.k_pages = storage->k_pages(l);
        a.v_pages = storage->v_pages(l);
        a.slot_bytes = storage->slot_bytes();
        a.type = cache.value_type();
        a.T = T;
        a.n_head = c.n_head;
        a.n_head_kv = c.n_head_kv;
        a.head_dim = c.head_dim;
        a.rope_dim = c.rope_dim;
        a.in_cache = in_cache;
        a.neox = neox;
        a.freq_base = c.rope_freq_base;
        a.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
        cuda::attention(stream_, a);
        // The output projection reads the attention output as its activation.
        cuda::quantize_q8_1(stream_, attn_.as<float>(), xq, c.q_dim(), T);
        cuda::matvec(stream_, W.wo.data.get(), W.wo.type, W.wo.row_bytes, W.wo.rows, W.wo.cols, xq, attn_.as<float>(),
                     proj_.as<float>(), T);
        cuda::add(stream_, x, proj_.as<float>(), sz(T) * sz(E));
        // --- feed-forward block (SwiGLU) ---
        cuda::rms_norm(stream_, x, W.ffn_norm.as<float>(), xn, E, T, c.rms_eps);
        cuda::quantize_q8_1(stream_, xn, xq, E, T);
        matvec(W.w_gate, gate_.as<float>(), T);
        matvec(W.w_up, up_.as<float>(), T);
        cuda::swiglu(stream_, gate_.as<float>(), up_.as<float>(), gate_.as<float>(), sz(T) * sz(c.n_ff));
        cuda::quantize_q8_1(stream_, gate_.as<float>(), xq, c.n_ff, T);
        cuda::matvec(stream_, W.w_down.data.get(), W.w_down.type, W.w_down.row_bytes, W.w_down.rows, W.w_down.cols, xq,
                     gate_.as<float>(), proj_.as<float>(), T);
        cuda::add(stream_, x, proj_.as<float>(), sz(T) * sz(E));
    }
    // Logits of the last token only.
    const float* x_last = x + sz(T - 1) * sz(E);
    cuda::rms_norm(stream_, x_last, output_norm_.as<float>(), xn, E, 1, c.rms_eps);
    cuda::quantize_q8_1(stream_, xn, xq, E, 1);
    const DeviceMatrix& out = output_is_embd_ ? token_embd_ : output_;
    matvec(out, logits_.as<float>(), 1);
    cuda::check(cudaMemcpyAsync(logits_host_.get(), logits_.get(), sz(c.n_vocab) * 4, cudaMemcpyDeviceToHost, s),
                "cudaMemcpyAsync (logits)");
    const size_t probs_floats = sz(L) * sz(T) * sz(c.n_head) * sz(max_keys);
    if (capturing)
        cuda::check(cudaMemcpyAsync(probs_host_.get(), probs_.get(), probs_floats * 4, cudaMemcpyDeviceToHost, s),
                    "cudaMemcpyAsync (attention capture)");
    cuda::check(cudaStreamSynchronize(s), "the forward pass on the GPU");
    std::memcpy(logits, logits_host_.get(), sz(c.n_vocab) * 4);
    if (!capturing) return;
    capture->resize(sz(T));
    const float* probs = probs_host_.as<float>();
    for (int t = 0; t < T; ++t) {
        QueryAttention& q = (*capture)[sz(t)];
        q.position = positions[sz(t)];
        q.layers.resize(sz(L));
        for (int l = 0; l < L; ++l) {
            const int nv = visible[l * T + t];
            LayerAttention& la = q.layers[sz(l)];
            la.key_positions.assign(key_positions[sz(l)].begin(), key_positions[sz(l)].begin() + nv);
            la.probs.resize(sz(c.n_head) * sz(nv));
            for (int hd = 0; hd < c.n_head; ++hd) {
                const float* row = probs + ((sz(l) * sz(T) + sz(t)) * sz(c.n_head) + sz(hd)) * sz(max_keys);
                std::copy(row, row + nv, la.probs.data() + sz(hd) * sz(nv));
            }
        }
    }
}

BackendMemory CudaBackend::memory() const {
    BackendMemory m;
    m.weights_bytes = weights_bytes_;
    for (const cuda::DeviceBuffer* b : {&x_, &xn_, &q_, &attn_, &k_, &v_, &proj_, &gate_, &up_, &xq_, &logits_, &probs_, &ints_})
        m.scratch_bytes += b->bytes();
    m.capture_bytes = scratch_capture_ ? probs_.bytes() + probs_host_.bytes() : 0;
    m.device_is_host = false;
    m.device_name = query_.name;
    const cuda::DeviceMemoryReading r = nvml_->read();
    if (r.ok) {
        m.device_used = r.used;
        m.device_total = r.total;
        m.process_device_bytes = r.process_used;
    } else {
        size_t free_b = 0, total_b = 0;
        if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
            m.device_used = total_b - free_b;
            m.device_total = total_b;
        } else {
            cudaGetLastError();
        }
    }
    return m;
}

}  // namespace kvscope
