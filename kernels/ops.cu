// The CUDA backend's kernels and their launchers (ops.h). Straightforward,
// correct kernels first: one warp per output row for mat-vec, one block per
// (query head, token) for attention. The math each kernel shares with its
// host twin comes from kernels/twin/.
#include "kernels/ops.h"

#include <cuda_runtime.h>

#include <cmath>

#include "kernels/cuda_memory.h"
#include "kernels/twin/q8_1.h"
#include "kernels/twin/rope.h"
#include "kernels/twin/softmax.h"
#include "kernels/twin/vec_dot_q8_1.h"

namespace kvscope::cuda {
namespace {

using quant::BlockQ8_0;
using quant::BlockQ8_1;

constexpr int kWarp = 32;

cudaStream_t st(Stream s) { return static_cast<cudaStream_t>(s); }

void launched(const char* what) { check(cudaGetLastError(), what); }

__device__ float warp_sum(float v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ float warp_max(float v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ int warp_sum_int(int v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum (or max) over a block of up to 1024 threads; every thread gets the result.
template <bool kMax>
__device__ float block_reduce(float v, float* shared32) {
    v = kMax ? warp_max(v) : warp_sum(v);
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    if (lane == 0) shared32[warp] = v;
    __syncthreads();
    const int n_warps = (blockDim.x + kWarp - 1) / kWarp;
    float r = threadIdx.x < n_warps ? shared32[threadIdx.x] : (kMax ? -INFINITY : 0.0f);
    if (warp == 0) r = kMax ? warp_max(r) : warp_sum(r);
    if (threadIdx.x == 0) shared32[0] = r;
    __syncthreads();
    r = shared32[0];
    __syncthreads();
    return r;
}

__device__ float dequant_element(const void* row, TensorType type, int i) {
    switch (type) {
        case TensorType::F32: return static_cast<const float*>(row)[i];
        case TensorType::F16: return twin::half_to_float(static_cast<const uint16_t*>(row)[i]);
        case TensorType::BF16: return twin::bf16_to_float(static_cast<const uint16_t*>(row)[i]);
        case TensorType::Q4_0: return twin::dequant_q4_0(static_cast<const quant::BlockQ4_0*>(row)[i / 32], i % 32);
        case TensorType::Q4_1: return twin::dequant_q4_1(static_cast<const quant::BlockQ4_1*>(row)[i / 32], i % 32);
        case TensorType::Q5_0: return twin::dequant_q5_0(static_cast<const quant::BlockQ5_0*>(row)[i / 32], i % 32);
        case TensorType::Q5_1: return twin::dequant_q5_1(static_cast<const quant::BlockQ5_1*>(row)[i / 32], i % 32);
        case TensorType::Q8_0: return twin::dequant_q8_0(static_cast<const BlockQ8_0*>(row)[i / 32], i % 32);
        case TensorType::Q4_K: return twin::dequant_q4_K(static_cast<const quant::BlockQ4_K*>(row)[i / 256], i % 256);
        case TensorType::Q5_K: return twin::dequant_q5_K(static_cast<const quant::BlockQ5_K*>(row)[i / 256], i % 256);
        case TensorType::Q6_K: return twin::dequant_q6_K(static_cast<const quant::BlockQ6_K*>(row)[i / 256], i % 256);
        default: return NAN;
    }
}

__global__ void embed_kernel(const uint8_t* table, TensorType type, size_t row_bytes, int n, const int32_t* tokens,
                             float* x) {
    const int t = blockIdx.x;
    const uint8_t* row = table + static_cast<size_t>(tokens[t]) * row_bytes;
    for (int i = threadIdx.x; i < n; i += blockDim.x) x[static_cast<size_t>(t) * n + i] = dequant_element(row, type, i);
}

__global__ void rms_norm_kernel(const float* x, const float* w, float* y, int n, float eps) {
    __shared__ float shared[32];
    const float* xr = x + static_cast<size_t>(blockIdx.x) * n;
    float* yr = y + static_cast<size_t>(blockIdx.x) * n;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) sum += xr[i] * xr[i];
    sum = block_reduce<false>(sum, shared);
    const float scale = 1.0f / sqrtf(sum / static_cast<float>(n) + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] * scale) * w[i];
}

// One warp per block of 32: the twin's quantize_block_q8_1, lane by lane.
__global__ void quantize_q8_1_kernel(const float* x, BlockQ8_1* y, int n) {
    const int block = blockIdx.x, t = blockIdx.y, lane = threadIdx.x;
    const float xi = x[static_cast<size_t>(t) * n + block * 32 + lane];
    const float amax = warp_max(fabsf(xi));
    const float d = amax / 127.0f;
    const int q = amax == 0.0f ? 0 : static_cast<int>(roundf(xi / d));
    const int sum = warp_sum_int(q);
    BlockQ8_1& out = y[static_cast<size_t>(t) * (n / 32) + block];
    out.qs[lane] = static_cast<int8_t>(q);
    if (lane == 0) {
        out.d = twin::float_to_half(d);
        out.s = twin::float_to_half(d * static_cast<float>(sum));
    }
}

// One warp per output row (and token): each lane takes every 32nd block of the
// row, the warp sums the lanes' partial dots.
__global__ void matvec_kernel(const uint8_t* w, TensorType type, size_t row_bytes, int rows, int cols,
                              const BlockQ8_1* xq, const float* xf, float* out) {
    const int row = blockIdx.x * (blockDim.x / kWarp) + threadIdx.x / kWarp;
    const int t = blockIdx.y, lane = threadIdx.x % kWarp;
    if (row >= rows) return;
    const uint8_t* wr = w + static_cast<size_t>(row) * row_bytes;
    const BlockQ8_1* xt = xq + static_cast<size_t>(t) * (cols / 32);
    const float* xft = xf + static_cast<size_t>(t) * cols;
    float sum = 0.0f;
    switch (type) {
        case TensorType::F32:
            for (int i = lane; i < cols; i += kWarp) sum += reinterpret_cast<const float*>(wr)[i] * xft[i];
            break;
        case TensorType::F16:
            for (int i = lane; i < cols; i += kWarp)
                sum += twin::half_to_float(reinterpret_cast<const uint16_t*>(wr)[i]) * xft[i];
            break;
        case TensorType::BF16:
            for (int i = lane; i < cols; i += kWarp)
                sum += twin::bf16_to_float(reinterpret_cast<const uint16_t*>(wr)[i]) * xft[i];
            break;
        case TensorType::Q4_0:
            for (int b = lane; b < cols / 32; b += kWarp)
                sum += twin::vec_dot_q4_0_q8_1(reinterpret_cast<const quant::BlockQ4_0*>(wr)[b], xt[b]);
            break;
        case TensorType::Q4_1:
            for (int b = lane; b < cols / 32; b += kWarp)
                sum += twin::vec_dot_q4_1_q8_1(reinterpret_cast<const quant::BlockQ4_1*>(wr)[b], xt[b]);
            break;
        case TensorType::Q5_0:
            for (int b = lane; b < cols / 32; b += kWarp)
                sum += twin::vec_dot_q5_0_q8_1(reinterpret_cast<const quant::BlockQ5_0*>(wr)[b], xt[b]);
            break;
        case TensorType::Q5_1:
            for (int b = lane; b < cols / 32; b += kWarp)
                sum += twin::vec_dot_q5_1_q8_1(reinterpret_cast<const quant::BlockQ5_1*>(wr)[b], xt[b]);
            break;
        case TensorType::Q8_0:
            for (int b = lane; b < cols / 32; b += kWarp)
                sum += twin::vec_dot_q8_0_q8_1(reinterpret_cast<const BlockQ8_0*>(wr)[b], xt[b]);
            break;
        case TensorType::Q4_K:
            for (int b = lane; b < cols / 256; b += kWarp)
                sum += twin::vec_dot_q4_K_q8_1(reinterpret_cast<const quant::BlockQ4_K*>(wr)[b], xt + 8 * b);
            break;
        case TensorType::Q5_K:
            for (int b = lane; b < cols / 256; b += kWarp)
                sum += twin::vec_dot_q5_K_q8_1(reinterpret_cast<const quant::BlockQ5_K*>(wr)[b], xt + 8 * b);
            break;
        case TensorType::Q6_K:
            for (int b = lane; b < cols / 256; b += kWarp)
                sum += twin::vec_dot_q6_K_q8_1(reinterpret_cast<const quant::BlockQ6_K*>(wr)[b], xt + 8 * b);
            break;
        default: break;
    }
    sum = warp_sum(sum);
    if (lane == 0) out[static_cast<size_t>(t) * rows + row] = sum;
}

__global__ void rope_kernel(float* x, int stride, int n_heads, int head_dim, int rope_dim, bool neox,
                            const int32_t* positions, float freq_base) {
    const int t = blockIdx.x, half = rope_dim / 2;
    for (int k = threadIdx.x; k < n_heads * half; k += blockDim.x) {
        const int h = k / half, i = k % half;
        float c, s;
        twin::rope_angle(positions[t], i, rope_dim, freq_base, c, s);
        twin::rope_rotate_pair(x + static_cast<size_t>(t) * stride + static_cast<size_t>(h) * head_dim, i, rope_dim,
                               neox, c, s);
    }
}

__device__ uint8_t* slot_row(uint8_t* const* pages, int32_t slot, size_t slot_bytes) {
    return pages[slot / kPageSize] + static_cast<size_t>(slot % kPageSize) * slot_bytes;
}

__global__ void kv_store_kernel(const float* k, const float* v, int kv_dim, const int32_t* slots, uint8_t* const* k_pages,
                                uint8_t* const* v_pages, size_t slot_bytes, KvValueType type) {
    const int t = blockIdx.x, which = blockIdx.y;  // which: 0 = K, 1 = V
    const float* src = (which == 0 ? k : v) + static_cast<size_t>(t) * kv_dim;
    uint8_t* dst = slot_row(which == 0 ? k_pages : v_pages, slots[t], slot_bytes);
    if (type == KvValueType::Q8_0) {
        for (int b = threadIdx.x; b < kv_dim / 32; b += blockDim.x)
            twin::quantize_block_q8_0(src + 32 * b, reinterpret_cast<BlockQ8_0*>(dst)[b]);
        return;
    }
    for (int i = threadIdx.x; i < kv_dim; i += blockDim.x) {
        if (type == KvValueType::F32) reinterpret_cast<float*>(dst)[i] = src[i];
        else reinterpret_cast<uint16_t*>(dst)[i] = twin::float_to_half(src[i]);
    }
}

__device__ float cache_value(const uint8_t* row, KvValueType type, int i) {
    switch (type) {
        case KvValueType::F32: return reinterpret_cast<const float*>(row)[i];
        case KvValueType::F16: return twin::half_to_float(reinterpret_cast<const uint16_t*>(row)[i]);
        case KvValueType::Q8_0: return twin::dequant_q8_0(reinterpret_cast<const BlockQ8_0*>(row)[i / 32], i % 32);
    }
    return NAN;
}

// f16 rounding as the CPU applies it before meeting an f16 (or q8_0) cache.
__device__ float to_cache_precision(float x, KvValueType type) {
    return type == KvValueType::F32 ? x : twin::half_to_float(twin::float_to_half(x));
}

// One block per (query head, token): scores over the visible held keys, fp32
// softmax (written to probs: the capture), then the weighted sum of values.
__global__ void attention_kernel(AttentionArgs a) {
    extern __shared__ float q_shared[];  // [head_dim]
    __shared__ float reduce[32];
    const int h = blockIdx.x, t = blockIdx.y;
    const int kvh = h / (a.n_head / a.n_head_kv);
    const int nv = a.n_visible[t];
    const float* q = a.q + (static_cast<size_t>(t) * a.n_head + h) * a.head_dim;
    for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x) q_shared[d] = q[d];
    __syncthreads();
    if (a.in_cache) {  // the query sits at its own rank: the last of the keys it sees
        for (int i = threadIdx.x; i < a.rope_dim / 2; i += blockDim.x) {
            float c, s;
            twin::rope_angle(nv - 1, i, a.rope_dim, a.freq_base, c, s);
            twin::rope_rotate_pair(q_shared, i, a.rope_dim, a.neox, c, s);
        }
        __syncthreads();
    }
    for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x) q_shared[d] = to_cache_precision(q_shared[d], a.type);
    __syncthreads();

    float* probs = a.probs + (static_cast<size_t>(t) * a.n_head + h) * a.max_keys;
    const size_t head_offset = static_cast<size_t>(kvh) * a.head_dim;
    float local_max = -INFINITY;
    for (int j = threadIdx.x; j < nv; j += blockDim.x) {
        const uint8_t* krow = slot_row(a.k_pages, a.held_slots[j], a.slot_bytes);
        float dot = 0.0f;
        if (a.in_cache) {
            // Rotated at rank j on the fly: pair by pair, then the rest of the head.
            const float theta_scale = powf(a.freq_base, -2.0f / static_cast<float>(a.rope_dim));
            float theta = static_cast<float>(j);
            for (int i = 0; i < a.rope_dim / 2; ++i) {
                const int ia = a.neox ? i : 2 * i, ib = a.neox ? i + a.rope_dim / 2 : 2 * i + 1;
                const float k0 = cache_value(krow, a.type, static_cast<int>(head_offset) + ia);
                const float k1 = cache_value(krow, a.type, static_cast<int>(head_offset) + ib);
                const float c = cosf(theta), s = sinf(theta);
                dot += q_shared[ia] * (k0 * c - k1 * s) + q_shared[ib] * (k0 * s + k1 * c);
                theta *= theta_scale;
            }
            for (int d = a.rope_dim; d < a.head_dim; ++d)
                dot += q_shared[d] * cache_value(krow, a.type, static_cast<int>(head_offset) + d);
        } else {
            for (int d = 0; d < a.head_dim; ++d)
                dot += q_shared[d] * cache_value(krow, a.type, static_cast<int>(head_offset) + d);
        }
        const float score = dot * a.scale;
        probs[j] = score;
        local_max = fmaxf(local_max, score);
    }
    const float m = block_reduce<true>(local_max, reduce);
    float local_sum = 0.0f;
    for (int j = threadIdx.x; j < nv; j += blockDim.x) {
        const float e = expf(probs[j] - m);
        probs[j] = e;
        local_sum += e;
    }
    const float inv = 1.0f / block_reduce<false>(local_sum, reduce);
    for (int j = threadIdx.x; j < nv; j += blockDim.x) probs[j] *= inv;
    __syncthreads();
    float* out = a.out + (static_cast<size_t>(t) * a.n_head + h) * a.head_dim;
    for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < nv; ++j) {
            const uint8_t* vrow = slot_row(a.v_pages, a.held_slots[j], a.slot_bytes);
            acc += to_cache_precision(probs[j], a.type) * cache_value(vrow, a.type, static_cast<int>(head_offset) + d);
        }
        out[d] = acc;
    }
}

__global__ void swiglu_kernel(const float* gate, const float* up, float* out, size_t n) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = twin::swiglu(gate[i], up[i]);
}

__global__ void add_kernel(float* x, const float* y, size_t n) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}

unsigned blocks_for(size_t n, unsigned threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace

void embed(Stream s, const void* table, TensorType type, size_t row_bytes, int n_embd, const int32_t* tokens, int T,
           float* x) {
    embed_kernel<<<T, 256, 0, st(s)>>>(static_cast<const uint8_t*>(table), type, row_bytes, n_embd, tokens, x);
    launched("embed kernel");
}

void rms_norm(Stream s, const float* x, const float* w, float* y, int n, int T, float eps) {
    rms_norm_kernel<<<T, 256, 0, st(s)>>>(x, w, y, n, eps);
    launched("rms_norm kernel");
}

void quantize_q8_1(Stream s, const float* x, BlockQ8_1* y, int n, int T) {
    quantize_q8_1_kernel<<<dim3(n / 32, T), 32, 0, st(s)>>>(x, y, n);
    launched("quantize_q8_1 kernel");
}

bool matvec_supports(TensorType type) {
    switch (type) {
        case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q4_0: case TensorType::Q4_1:
        case TensorType::Q5_0: case TensorType::Q5_1: case TensorType::Q8_0: case TensorType::Q4_K: case TensorType::Q5_K:
        case TensorType::Q6_K: return true;
        default: return false;
    }
}

void matvec(Stream s, const void* w, TensorType type, size_t row_bytes, int rows, int cols, const BlockQ8_1* xq,
            const float* xf, float* out, int T) {
    constexpr int kRowsPerBlock = 4;  // warps per block
    matvec_kernel<<<dim3((rows + kRowsPerBlock - 1) / kRowsPerBlock, T), kRowsPerBlock * kWarp, 0, st(s)>>>(
        static_cast<const uint8_t*>(w), type, row_bytes, rows, cols, xq, xf, out);
    launched("matvec kernel");
}

void rope(Stream s, float* x, int stride, int n_heads, int head_dim, int rope_dim, bool neox, const int32_t* positions,
          int T, float freq_base) {
    rope_kernel<<<T, 128, 0, st(s)>>>(x, stride, n_heads, head_dim, rope_dim, neox, positions, freq_base);
    launched("rope kernel");
}

void kv_store(Stream s, const float* k, const float* v, int kv_dim, const int32_t* slots, int T, uint8_t* const* k_pages,
              uint8_t* const* v_pages, size_t slot_bytes, KvValueType type) {
    kv_store_kernel<<<dim3(T, 2), 128, 0, st(s)>>>(k, v, kv_dim, slots, k_pages, v_pages, slot_bytes, type);
    launched("kv_store kernel");
}

void attention(Stream s, const AttentionArgs& a) {
    attention_kernel<<<dim3(a.n_head, a.T), 128, static_cast<size_t>(a.head_dim) * sizeof(float), st(s)>>>(a);
    launched("attention kernel");
}

void swiglu(Stream s, const float* gate, const float* up, float* out, size_t n) {
    swiglu_kernel<<<blocks_for(n, 256), 256, 0, st(s)>>>(gate, up, out, n);
    launched("swiglu kernel");
}

void add(Stream s, float* x, const float* y, size_t n) {
    add_kernel<<<blocks_for(n, 256), 256, 0, st(s)>>>(x, y, n);
    launched("add kernel");
}

}  // namespace kvscope::cuda
