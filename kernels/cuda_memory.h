#pragma once
// Device memory for the CUDA backend: owning buffers that say what did not
// fit when an allocation fails ("KV cache page for layer 3 needs 96.0 KiB,
// 12.0 KiB free"), pinned host buffers for the copies back, and the check
// that turns a CUDA error into a kvscope::Error naming the call.
#include <cstddef>
#include <string>

namespace kvscope::cuda {

// Throws kvscope::Error "<what>: <CUDA's message>" unless `status` (a
// cudaError_t) is success.
void check(int status, const char* what);

// "1.2 GiB", "96.0 KiB"
std::string format_bytes(size_t bytes);

// Free and total device memory of the current device (cudaMemGetInfo).
void device_memory(size_t& free_bytes, size_t& total_bytes);

// Owned device memory. An allocation that does not fit throws kvscope::Error
// naming `what`, the size asked and the memory free.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(size_t bytes, const std::string& what);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& other) noexcept;
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* get() const { return ptr_; }
    template <typename T>
    T* as() const { return static_cast<T*>(ptr_); }
    size_t bytes() const { return bytes_; }
    // Grows to at least `bytes` (contents are not kept); no-op when large enough.
    void ensure(size_t bytes, const std::string& what);

private:
    void release();
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

// Owned page-locked host memory (the target of asynchronous copies back).
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    ~PinnedBuffer();
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    void ensure(size_t bytes, const std::string& what);
    void* get() const { return ptr_; }
    template <typename T>
    T* as() const { return static_cast<T*>(ptr_); }
    size_t bytes() const { return bytes_; }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

}  // namespace kvscope::cuda
