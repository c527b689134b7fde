#include "kernels/nvml_memory.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace kvscope::cuda {
namespace {

// NVML's ABI (nvml.h, stable across drivers): only what is used here.
constexpr int kNvmlSuccess = 0;
constexpr int kNvmlInsufficientSize = 7;
struct NvmlMemoryInfo {  // nvmlMemory_t
    unsigned long long total, free, used;
};
struct NvmlProcessInfo {  // nvmlProcessInfo_t (v2 layout, used by the _v3 query)
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
};

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (or "MIG-...") from CUDA's 16-byte UUID.
std::string uuid_text(const char* prefix, const unsigned char* b) {
    char s[64];
    std::snprintf(s, sizeof s, "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix, b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return s;
}

}  // namespace

NvmlMemory::NvmlMemory(int cuda_device) {
    library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr) {
        why_not_ = "libnvidia-ml.so.1 not found";
        return;
    }
    auto sym = [this](const char* name) { return dlsym(library_, name); };
    auto init = reinterpret_cast<int (*)()>(sym("nvmlInit_v2"));
    auto by_uuid = reinterpret_cast<int (*)(const char*, void**)>(sym("nvmlDeviceGetHandleByUUID"));
    get_memory_ = reinterpret_cast<int (*)(void*, void*)>(sym("nvmlDeviceGetMemoryInfo"));
    get_processes_ = reinterpret_cast<int (*)(void*, unsigned*, void*)>(sym("nvmlDeviceGetComputeRunningProcesses_v3"));
    shutdown_ = reinterpret_cast<int (*)()>(sym("nvmlShutdown"));
    if (init == nullptr || by_uuid == nullptr || get_memory_ == nullptr || shutdown_ == nullptr) {
        why_not_ = "libnvidia-ml.so.1 lacks the memory queries";
        return;
    }
    if (init() != kNvmlSuccess) {
        why_not_ = "nvmlInit failed";
        shutdown_ = nullptr;
        return;
    }
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, cuda_device) != cudaSuccess) {
        cudaGetLastError();
        why_not_ = "cannot read the CUDA device's UUID";
        return;
    }
    const auto* uuid = reinterpret_cast<const unsigned char*>(p.uuid.bytes);
    // A whole GPU answers to "GPU-<uuid>", a MIG instance to "MIG-<uuid>".
    for (const char* prefix : {"GPU", "MIG"}) {
        void* handle = nullptr;
        if (by_uuid(uuid_text(prefix, uuid).c_str(), &handle) == kNvmlSuccess) {
            device_ = handle;
            return;
        }
    }
    why_not_ = "NVML does not know the CUDA device's UUID";
}

NvmlMemory::~NvmlMemory() {
    if (shutdown_ != nullptr) shutdown_();
    if (library_ != nullptr) dlclose(library_);
}

DeviceMemoryReading NvmlMemory::read() const {
    DeviceMemoryReading r;
    if (device_ == nullptr) return r;
    NvmlMemoryInfo info{};
    if (get_memory_(device_, &info) != kNvmlSuccess) return r;
    r.ok = true;
    r.used = static_cast<size_t>(info.used);
    r.total = static_cast<size_t>(info.total);
    if (get_processes_ != nullptr) {
        unsigned count = 0;
        std::vector<NvmlProcessInfo> procs(64);
        count = static_cast<unsigned>(procs.size());
        int status = get_processes_(device_, &count, procs.data());
        if (status == kNvmlInsufficientSize) {
            procs.resize(count + 16);
            count = static_cast<unsigned>(procs.size());
            status = get_processes_(device_, &count, procs.data());
        }
        if (status == kNvmlSuccess) {
            const auto self = static_cast<unsigned>(getpid());
            for (unsigned i = 0; i < count; ++i)
                if (procs[i].pid == self) r.process_used += static_cast<size_t>(procs[i].used_gpu_memory);
        }
    }
    return r;
}

}  // namespace kvscope::cuda
