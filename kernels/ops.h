#pragma once
// The CUDA backend's kernels, as host-side launchers (defined in ops.cu):
// each enqueues one kernel on `stream` (a cudaStream_t) and returns. Every
// kernel has a host twin in kernels/twin/ that computes the same thing for
// one element, row or block; tests/gpu/ compares the two on random inputs.
//
// Shapes: T tokens per call; activations are row-major [T][n] floats.
#include <cstddef>
#include <cstdint>

#include "kv/kv_types.h"
#include "quant/block_types.h"
#include "quant/tensor_type.h"

namespace kvscope::cuda {

using Stream = void*;  // cudaStream_t, without the CUDA headers here

// x[t][:] = the dequantised row tokens[t] of the embedding table (row_bytes apart).
void embed(Stream s, const void* table, TensorType type, size_t row_bytes, int n_embd, const int32_t* tokens, int T,
           float* x);

// y[t] = rmsnorm(x[t]) * w, n values per row.
void rms_norm(Stream s, const float* x, const float* w, float* y, int n, int T, float eps);

// Rows of n floats (n a multiple of 32) to q8_1 blocks: y[t][n / 32].
void quantize_q8_1(Stream s, const float* x, quant::BlockQ8_1* y, int n, int T);

// out[t][r] = W.row(r) · x[t] for rows x cols weights of `type` (rows of
// row_bytes); quantised types read xq (q8_1 of x), F32/F16/BF16 read xf.
void matvec(Stream s, const void* w, TensorType type, size_t row_bytes, int rows, int cols,
            const quant::BlockQ8_1* xq, const float* xf, float* out, int T);
// Whether matvec computes weights of `type`.
bool matvec_supports(TensorType type);

// RoPE over n_heads heads of head_dim (rope_dim rotated) in rows of `stride`
// floats: token t's heads at its own position positions[t].
void rope(Stream s, float* x, int stride, int n_heads, int head_dim, int rope_dim, bool neox, const int32_t* positions,
          int T, float freq_base);

// K and V rows ([T][kv_dim] floats) into the cache pages: token t into slot
// slots[t]; pages[p] is the page of slots [16p, 16p + 16), slot_bytes per slot.
void kv_store(Stream s, const float* k, const float* v, int kv_dim, const int32_t* slots, int T, uint8_t* const* k_pages,
              uint8_t* const* v_pages, size_t slot_bytes, KvValueType type);

// What attention reads for one layer.
struct AttentionArgs {
    const float* q = nullptr;           // [T][n_head][head_dim], rotated already unless in_cache
    float* out = nullptr;               // [T][n_head][head_dim]
    float* probs = nullptr;             // [T][n_head][max_keys] the softmax, as captured
    int max_keys = 0;                   // the row stride of probs
    const int32_t* held_slots = nullptr;  // [n_held] slots of the held positions, in position order
    const int32_t* n_visible = nullptr;   // [T] keys each token sees (a prefix of held_slots)
    uint8_t* const* k_pages = nullptr;
    uint8_t* const* v_pages = nullptr;
    size_t slot_bytes = 0;
    KvValueType type = KvValueType::F16;
    int T = 1, n_head = 1, n_head_kv = 1, head_dim = 64, rope_dim = 64;
    bool in_cache = false;  // rotate each key at its rank and the query at its own (keys stored unrotated)
    bool neox = false;
    float freq_base = 10000.0f;
    float scale = 0.125f;
};
void attention(Stream s, const AttentionArgs& a);

// out[i] = silu(gate[i]) * up[i], n values.
void swiglu(Stream s, const float* gate, const float* up, float* out, size_t n);
// x[i] += y[i], n values.
void add(Stream s, float* x, const float* y, size_t n);

}  // namespace kvscope::cuda
