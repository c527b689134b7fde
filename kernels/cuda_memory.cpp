#include "kernels/cuda_memory.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <utility>

#include "util/error.h"

namespace kvscope::cuda {

void check(int status, const char* what) {
    const auto e = static_cast<cudaError_t>(status);
    if (e == cudaSuccess) return;
    cudaGetLastError();  // clear the runtime's copy of a non-sticky error
    throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

std::string format_bytes(size_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%zu bytes", bytes);
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

void device_memory(size_t& free_bytes, size_t& total_bytes) {
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
}

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) { ensure(bytes, what); }

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
        release();
        ptr_ = std::exchange(other.ptr_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

void DeviceBuffer::release() {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
}

void DeviceBuffer::ensure(size_t bytes, const std::string& what) {
    if (bytes <= bytes_) return;
    release();
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        throw Error(what + " needs " + format_bytes(bytes) + ", " + format_bytes(free_b) + " free on the GPU");
    }
    check(e, ("cudaMalloc for " + what).c_str());
    ptr_ = p;
    bytes_ = bytes;
}

PinnedBuffer::~PinnedBuffer() {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
}

void PinnedBuffer::ensure(size_t bytes, const std::string& what) {
    if (bytes <= bytes_) return;
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
    check(cudaMallocHost(&ptr_, bytes == 0 ? 1 : bytes), ("pinned host memory for " + what).c_str());
    bytes_ = bytes;
}

}  // namespace kvscope::cuda
