// The CPU backend's dot products: the kernels of the active SIMD level.
#include "backend/cpu/vec_dot.h"

#include <algorithm>
#include <string>

#include "backend/cpu/cpu_kernels.h"
#include "util/error.h"

namespace kvscope {
namespace {

struct Kernels {
    CpuKernels::RowDot dot = nullptr;
    CpuKernels::RowsDot rows = nullptr;  // multi-row kernel, when one exists
    CpuKernels::TileDot tile = nullptr;  // rows × activations kernel, when one exists
};

// The float dots take the RowDot shape through these; the kernel table they
// read is the one active when the product was asked for.
float dot_f32_row(const void* w, const void* x, int64_t n) {
    return cpu_kernels().f32(static_cast<const float*>(w), static_cast<const float*>(x), n);
}
float dot_f16_row(const void* w, const void* x, int64_t n) {
    return cpu_kernels().f16(static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(x), n);
}
float dot_bf16_row(const void* w, const void* x, int64_t n) {
    return cpu_kernels().bf16(static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(x), n);
}

[[noreturn]] void throw_unsupported(const char* what, TensorType t) {
    const TensorTypeInfo* info = tensor_type_info(static_cast<uint32_t>(t));
    const std::string name = info ? info->name : "id " + std::to_string(static_cast<uint32_t>(t));
    throw Error(std::string(what) + ": tensor type " + name + " is not supported (supported: " +
                computable_type_names() + ")");
}

Kernels kernels_for(TensorType weight_type) {
    const CpuKernels& k = cpu_kernels();
    switch (weight_type) {
    case TensorType::F32: return {dot_f32_row};
    case TensorType::F16: return {dot_f16_row};
    case TensorType::BF16: return {dot_bf16_row};
    case TensorType::Q4_0: return {k.q4_0, k.rows_q4_0, k.tile_q4_0};
    case TensorType::Q4_1: return {k.q4_1, k.rows_q4_1, k.tile_q4_1};
    case TensorType::Q5_0: return {k.q5_0, k.rows_q5_0, k.tile_q5_0};
    case TensorType::Q5_1: return {k.q5_1, k.rows_q5_1, k.tile_q5_1};
    case TensorType::Q8_0: return {k.q8_0, k.rows_q8_0, k.tile_q8_0};
    case TensorType::Q4_K: return {k.q4_K};
    case TensorType::Q5_K: return {k.q5_K};
    case TensorType::Q6_K: return {k.q6_K};
    default: throw_unsupported("vec_dot", weight_type);
    }
}
// The activation must have been prepared for this weight type.
void check_activation(TensorType weight_type, const QuantizedVector& x) {
    const TensorType want = vec_dot_type(weight_type);
    if (x.type != want)
        throw Error(std::string("vec_dot: activation is ") + tensor_type_name(x.type) + ", weight type " +
                    tensor_type_name(weight_type) + " needs " + tensor_type_name(want));
    (void)row_bytes(weight_type, x.n);
    if (x.bytes.size() != row_bytes(want, x.n)) throw Error("vec_dot: activation byte size does not match its length");
}

}  // namespace

bool vec_dot_computes(TensorType weight_type) {
    switch (weight_type) {
    case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q4_0: case TensorType::Q4_1:
    case TensorType::Q5_0: case TensorType::Q5_1: case TensorType::Q8_0: case TensorType::Q4_K: case TensorType::Q5_K:
    case TensorType::Q6_K: return true;
    default: return false;
    }
}

float vec_dot(TensorType weight_type, const void* weight_row, const QuantizedVector& x) {
    const Kernels k = kernels_for(weight_type);
    check_activation(weight_type, x);
    return k.dot(weight_row, x.bytes.data(), x.n);
}

void vec_dot_rows(TensorType weight_type, const uint8_t* first_row, size_t row_stride, int64_t n_rows,
                  const QuantizedVector& x, float* out) {
    const Kernels k = kernels_for(weight_type);
    check_activation(weight_type, x);
    if (k.rows) {
        k.rows(first_row, row_stride, n_rows, x.bytes.data(), x.n, out);
        return;
    }
    for (int64_t r = 0; r < n_rows; ++r) out[r] = k.dot(first_row + static_cast<size_t>(r) * row_stride, x.bytes.data(), x.n);
}

void vec_dot_rows_batch(TensorType weight_type, const uint8_t* first_row, size_t row_stride, int64_t n_rows,
                        const QuantizedVector* xs, int n_x, float* out, size_t out_stride) {
    if (n_x == 0) return;
    const Kernels k = kernels_for(weight_type);
    check_activation(weight_type, xs[0]);
    for (int t = 1; t < n_x; ++t)
        if (xs[t].type != xs[0].type || xs[t].n != xs[0].n || xs[t].bytes.size() != xs[0].bytes.size())
            throw Error("vec_dot: the activations of a batch differ in type or length");
    if (k.tile) {
        constexpr int kChunk = 64;  // activations per call (their block pointers on the stack)
        const void* data[kChunk];
        for (int t0 = 0; t0 < n_x; t0 += kChunk) {
            const int n = std::min(kChunk, n_x - t0);
            for (int t = 0; t < n; ++t) data[t] = xs[t0 + t].bytes.data();
            k.tile(first_row, row_stride, n_rows, data, n, xs[0].n, out + static_cast<size_t>(t0) * out_stride, out_stride);
        }
        return;
    }
    for (int t = 0; t < n_x; ++t) {
        const QuantizedVector& x = xs[t];
        float* o = out + static_cast<size_t>(t) * out_stride;
        if (k.rows) {
            k.rows(first_row, row_stride, n_rows, x.bytes.data(), x.n, o);
            continue;
        }
        for (int64_t r = 0; r < n_rows; ++r) o[r] = k.dot(first_row + static_cast<size_t>(r) * row_stride, x.bytes.data(), x.n);
    }
}

}  // namespace kvscope
