// ggml_order's kernels for the scalar level (see ggml_order_impl.inc).
#include "backend/cpu/ggml_order.h"

#include <cstddef>
#include <cstdint>

#include "quant/simd.h"
#include "util/fp16.h"

#define KVSCOPE_ISA scalar
#define KVSCOPE_ISA_F16C 0
#define KVSCOPE_ISA_AVX512 0
#include "backend/cpu/ggml_order_impl.inc"
