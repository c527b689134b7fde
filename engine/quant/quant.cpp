// The shared entry points of quant.h: row sizes, the vec_dot type table and
// the activation quantisers (dispatched to the AVX2 or scalar code).
#include "quant/quant.h"

#include <cstring>
#include <string>

#include "quant/block_types.h"
#include "quant/quantize_activation.h"
#include "util/error.h"

namespace kvscope {
namespace {

[[noreturn]] void throw_unsupported(const char* what, TensorType t) {
    const TensorTypeInfo* info = tensor_type_info(static_cast<uint32_t>(t));
    const std::string name = info ? info->name : "id " + std::to_string(static_cast<uint32_t>(t));
    throw Error(std::string(what) + ": tensor type " + name + " is not supported (supported: " +
                computable_type_names() + ")");
}

}  // namespace

size_t row_bytes(TensorType t, int64_t n) {
    const TensorTypeInfo* info = tensor_type_info(static_cast<uint32_t>(t));
    if (!info) throw Error("unknown tensor type id " + std::to_string(static_cast<uint32_t>(t)));
    if (n < 0 || n % info->block_elems != 0)
        throw Error("row of " + std::to_string(n) + " elements is not a whole number of " + info->name + " blocks (" +
                    std::to_string(info->block_elems) + " elements each)");
    return static_cast<size_t>(n / info->block_elems) * info->block_bytes;
}

TensorType vec_dot_type(TensorType weight_type) {
    switch (weight_type) {
    case TensorType::F32: return TensorType::F32;
    case TensorType::F16: return TensorType::F16;
    case TensorType::BF16: return TensorType::BF16;
    case TensorType::Q4_0: return TensorType::Q8_0;
    case TensorType::Q4_1: return TensorType::Q8_1;
    case TensorType::Q5_0: return TensorType::Q8_0;
    case TensorType::Q5_1: return TensorType::Q8_1;
    case TensorType::Q8_0: return TensorType::Q8_0;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return TensorType::Q8_K;
    default: throw_unsupported("vec_dot_type", weight_type);
    }
}

void quantize_for_dot(TensorType weight_type, const float* x, int64_t n, QuantizedVector& out) {
    const TensorType vt = vec_dot_type(weight_type);
    (void)row_bytes(weight_type, n);  // n must split into whole weight blocks too
    out.type = vt;
    out.n = n;
    out.bytes.resize(row_bytes(vt, n));
    void* dst = out.bytes.data();
    switch (vt) {
    case TensorType::F32: std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); break;
    case TensorType::F16: quant::convert_row_f16(x, static_cast<uint16_t*>(dst), n); break;
    case TensorType::BF16: quant::convert_row_bf16(x, static_cast<uint16_t*>(dst), n); break;
    case TensorType::Q8_0: quant::quantize_row_q8_0(x, static_cast<quant::BlockQ8_0*>(dst), n); break;
    case TensorType::Q8_1: quant::quantize_row_q8_1(x, static_cast<quant::BlockQ8_1*>(dst), n); break;
    case TensorType::Q8_K: quant::quantize_row_q8_K(x, static_cast<quant::BlockQ8_K*>(dst), n); break;
    default: throw_unsupported("quantize_for_dot", vt);
    }
}

}  // namespace kvscope
