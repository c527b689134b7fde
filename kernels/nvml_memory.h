#pragma once
// Device memory figures from NVML, loaded at run time (libnvidia-ml.so.1, the
// driver's library: nothing to link, and a machine without it just has no
// reading). NVML needs no CUDA context. The CUDA device is matched to its
// NVML handle by UUID, so under MIG the figures are the MIG instance's.
#include <cstddef>
#include <string>

namespace kvscope::cuda {

struct DeviceMemoryReading {
    bool ok = false;
    size_t used = 0, total = 0;  // the device (or MIG instance)
    size_t process_used = 0;     // this process's share (0 when NVML does not say)
};

class NvmlMemory {
public:
    explicit NvmlMemory(int cuda_device);
    ~NvmlMemory();
    NvmlMemory(const NvmlMemory&) = delete;
    NvmlMemory& operator=(const NvmlMemory&) = delete;

    bool available() const { return device_ != nullptr; }
    const std::string& why_not() const { return why_not_; }  // when not available
    DeviceMemoryReading read() const;

private:
    void* library_ = nullptr;  // dlopen handle
    void* device_ = nullptr;   // nvmlDevice_t
    std::string why_not_;
    // The NVML entry points used (resolved with dlsym).
    int (*get_memory_)(void*, void*) = nullptr;
    int (*get_processes_)(void*, unsigned*, void*) = nullptr;
    int (*shutdown_)() = nullptr;
};

}  // namespace kvscope::cuda
