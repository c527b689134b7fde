#include "backend/cpu/cpu_kernels.h"

#include "backend/cpu/ggml_order.h"
#include "backend/cpu/vec_dot_avx2.h"
#include "backend/cpu/vec_dot_scalar.h"
#include "quant/simd.h"
#include "util/error.h"

namespace kvscope {
namespace {

namespace go = ggml_order;

const CpuKernels kScalar = {
    SimdLevel::Scalar,
    quant::scalar::dot_q4_0_q8_0, quant::scalar::dot_q4_1_q8_1, quant::scalar::dot_q5_0_q8_0,
    quant::scalar::dot_q5_1_q8_1, quant::scalar::dot_q8_0_q8_0,
    quant::scalar::dot_q4_K_q8_K, quant::scalar::dot_q5_K_q8_K, quant::scalar::dot_q6_K_q8_K,
    nullptr, nullptr, nullptr, nullptr, nullptr,
    nullptr, nullptr, nullptr, nullptr, nullptr,
    quant::scalar::dot_f32, quant::scalar::dot_f16, quant::scalar::dot_bf16,
    go::scalar::dot_f16_decode, go::scalar::dot_prefill_f32, go::scalar::scores_prefill_f32,
    go::scalar::weighted_sum_v_prefill_f32, go::scalar::weighted_sum_v_prefill_blocked,
    go::scalar::softmax, go::scalar::round_to_f16_values, go::scalar::weighted_sum_v_decode,
    go::scalar::scores_f16_decode_pages, go::scalar::weighted_sum_v_decode_pages, go::scalar::swiglu,
};

#if KVSCOPE_X86_SIMD
const CpuKernels kAvx2 = {
    SimdLevel::Avx2,
    quant::avx2::dot_q4_0_q8_0, quant::avx2::dot_q4_1_q8_1, quant::avx2::dot_q5_0_q8_0,
    quant::avx2::dot_q5_1_q8_1, quant::avx2::dot_q8_0_q8_0,
    quant::avx2::dot_q4_K_q8_K, quant::avx2::dot_q5_K_q8_K, quant::avx2::dot_q6_K_q8_K,
    quant::avx2::dot_rows_q4_0_q8_0, quant::avx2::dot_rows_q4_1_q8_1, quant::avx2::dot_rows_q5_0_q8_0,
    quant::avx2::dot_rows_q5_1_q8_1, quant::avx2::dot_rows_q8_0_q8_0,
    quant::avx2::dot_tile_q4_0_q8_0, quant::avx2::dot_tile_q4_1_q8_1, quant::avx2::dot_tile_q5_0_q8_0,
    quant::avx2::dot_tile_q5_1_q8_1, quant::avx2::dot_tile_q8_0_q8_0,
    quant::avx2::dot_f32, quant::avx2::dot_f16, quant::avx2::dot_bf16,
    go::avx2::dot_f16_decode, go::avx2::dot_prefill_f32, go::avx2::scores_prefill_f32,
    go::avx2::weighted_sum_v_prefill_f32, go::avx2::weighted_sum_v_prefill_blocked,
    go::avx2::softmax, go::avx2::round_to_f16_values, go::avx2::weighted_sum_v_decode,
    go::avx2::scores_f16_decode_pages, go::avx2::weighted_sum_v_decode_pages, go::avx2::swiglu,
};

// AVX-512: the quantised dots are the AVX2 ones (integer work that 512-bit
// registers would not change); the float-lane kernels vectorise 16 wide.
const CpuKernels kAvx512 = {
    SimdLevel::Avx512,
    quant::avx2::dot_q4_0_q8_0, quant::avx2::dot_q4_1_q8_1, quant::avx2::dot_q5_0_q8_0,
    quant::avx2::dot_q5_1_q8_1, quant::avx2::dot_q8_0_q8_0,
    quant::avx2::dot_q4_K_q8_K, quant::avx2::dot_q5_K_q8_K, quant::avx2::dot_q6_K_q8_K,
    quant::avx2::dot_rows_q4_0_q8_0, quant::avx2::dot_rows_q4_1_q8_1, quant::avx2::dot_rows_q5_0_q8_0,
    quant::avx2::dot_rows_q5_1_q8_1, quant::avx2::dot_rows_q8_0_q8_0,
    quant::avx2::dot_tile_q4_0_q8_0, quant::avx2::dot_tile_q4_1_q8_1, quant::avx2::dot_tile_q5_0_q8_0,
    quant::avx2::dot_tile_q5_1_q8_1, quant::avx2::dot_tile_q8_0_q8_0,
    quant::avx2::dot_f32, quant::avx2::dot_f16, quant::avx2::dot_bf16,
    go::avx512::dot_f16_decode, go::avx512::dot_prefill_f32, go::avx512::scores_prefill_f32,
    go::avx512::weighted_sum_v_prefill_f32, go::avx512::weighted_sum_v_prefill_blocked,
    go::avx512::softmax, go::avx512::round_to_f16_values, go::avx512::weighted_sum_v_decode,
    go::avx512::scores_f16_decode_pages, go::avx512::weighted_sum_v_decode_pages, go::avx512::swiglu,
};
#endif

const CpuKernels& table_for(SimdLevel level) {
#if KVSCOPE_X86_SIMD
    if (level == SimdLevel::Avx512) return kAvx512;
    if (level == SimdLevel::Avx2) return kAvx2;
#endif
    (void)level;
    return kScalar;
}

}  // namespace

const CpuKernels& cpu_kernels(SimdLevel level) {
    if (!simd_level_runs_here(level))
        throw Error(std::string("CPU kernels: SIMD level ") + simd_level_name(level) + " does not run here");
    return table_for(level);
}

// active_simd_level() only ever holds a level that runs here.
const CpuKernels& cpu_kernels() { return table_for(active_simd_level()); }

}  // namespace kvscope
