#pragma once
// ggml tensor type ids (ggml/include/ggml.h) and their block layouts
// (ggml/src/ggml-common.h). The GGUF reader uses the table to size every
// tensor, including types KVScope cannot compute with; `computable` says
// which ones the CPU backend implements.
#include <cstdint>
#include <optional>
#include <string>

namespace kvscope {

enum class TensorType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35,
};

struct TensorTypeInfo {
    const char* name;
    uint32_t block_elems;  // elements per block (1 for plain types)
    uint32_t block_bytes;  // bytes per block
    bool computable;       // dequantize_row / vec_dot implemented
};

// nullptr when `id` is not a ggml type id we know (including removed ones).
const TensorTypeInfo* tensor_type_info(uint32_t id);
inline const TensorTypeInfo& tensor_type_info(TensorType t) { return *tensor_type_info(static_cast<uint32_t>(t)); }

inline const char* tensor_type_name(TensorType t) { return tensor_type_info(t).name; }

// Comma-separated names of the computable types, for error messages.
std::string computable_type_names();

}  // namespace kvscope
