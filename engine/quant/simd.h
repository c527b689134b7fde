#pragma once
// SIMD kernels are compiled per instruction set inside the same binary and
// chosen at run time (util/simd_level.h), so a build runs on any x86-64 CPU.
//
// An ISA's kernels sit between KVSCOPE_TARGET_AVX2 (or _AVX512) and
// KVSCOPE_TARGET_END, placed AFTER every #include of the file: headers
// included before the region keep the baseline ISA, so no inline or template
// function from a header is ever emitted with AVX2 code for the linker to hand
// to generic callers (the classic SIGILL on an older CPU). Inside a region use
// no std containers or other header templates that could be instantiated there.
//
// GCC on x86-64 only; other compilers (the clang fuzz build) get the scalar
// kernels, which give the same results.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KVSCOPE_X86_SIMD 1
#define KVSCOPE_TARGET_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,f16c\")")
#define KVSCOPE_TARGET_AVX512 \
    _Pragma("GCC push_options") \
    _Pragma("GCC target(\"avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512dq,prefer-vector-width=512\")")
#define KVSCOPE_TARGET_END _Pragma("GCC pop_options")
#else
#define KVSCOPE_X86_SIMD 0
#endif
