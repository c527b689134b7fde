#pragma once
// Which SIMD kernels this build compiles. The AVX2 kernels need AVX2 for the
// integer work, FMA for the accumulations and F16C for half conversions; all
// three come with -march=native on any x86 CPU from the last decade. Without
// them (KVSCOPE_NATIVE=OFF) only the scalar kernels exist.
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define KVSCOPE_QUANT_AVX2 1
#else
#define KVSCOPE_QUANT_AVX2 0
#endif
