#pragma once
// For the GPU suites: skip (visibly) without a usable CUDA device, device
// buffers filled from and read back to host vectors, and the normalised mean
// squared error llama.cpp's test-backend-ops compares backends by.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda_device.h"
#include "kernels/cuda_memory.h"

namespace kvscope::test {

// Ends the test as SKIPPED, saying why, where no CUDA device can run the kernels.
#define REQUIRE_CUDA_DEVICE()                                                                   \
    do {                                                                                        \
        const ::kvscope::cuda::DeviceQuery gpu_query_ = ::kvscope::cuda::query_device(0);       \
        if (!gpu_query_.usable) GTEST_SKIP() << "no usable CUDA device: " << gpu_query_.reason; \
    } while (0)

template <typename T>
cuda::DeviceBuffer to_device(const std::vector<T>& v) {
    cuda::DeviceBuffer b(v.size() * sizeof(T), "test data");
    cuda::check(cudaMemcpy(b.get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
    return b;
}

template <typename T>
std::vector<T> to_host(const cuda::DeviceBuffer& b, size_t n) {
    std::vector<T> v(n);
    cuda::check(cudaDeviceSynchronize(), "the kernel");
    cuda::check(cudaMemcpy(v.data(), b.get(), n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
    return v;
}

// Σ (a - b)² / Σ b² (test-backend-ops' NMSE).
inline double nmse(const std::vector<float>& a, const std::vector<float>& b) {
    double err = 0, ref = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        err += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
        ref += static_cast<double>(b[i]) * b[i];
    }
    return ref == 0 ? err : err / ref;
}

}  // namespace kvscope::test
