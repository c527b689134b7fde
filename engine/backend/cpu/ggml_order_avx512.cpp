// ggml_order's kernels for the avx512 level (see ggml_order_impl.inc).
#include "backend/cpu/ggml_order.h"

#include <cstddef>
#include <cstdint>

#include "quant/simd.h"
#include "util/fp16.h"

#if KVSCOPE_X86_SIMD
#include <immintrin.h>

KVSCOPE_TARGET_AVX512
#define KVSCOPE_ISA avx512
#define KVSCOPE_ISA_F16C 1
#define KVSCOPE_ISA_AVX512 1
#include "backend/cpu/ggml_order_impl.inc"
KVSCOPE_TARGET_END
#endif
