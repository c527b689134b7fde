#include "kernels/cuda_device.h"

#include <cuda_runtime_api.h>

#include <cstdio>

namespace kvscope::cuda {

int min_compute_capability() { return KVSCOPE_CUDA_MIN_CC; }

std::string DeviceQuery::description() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s (compute capability %d.%d, %.1f GiB)", name.c_str(), major, minor,
                  static_cast<double>(total_bytes) / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

DeviceQuery query_device(int device) {
    DeviceQuery q;
    const cudaError_t e = cudaGetDeviceCount(&q.device_count);
    if (e != cudaSuccess) {
        cudaGetLastError();  // the runtime keeps a sticky copy; this query must not poison later calls
        if (e == cudaErrorInsufficientDriver)
            q.reason = "no NVIDIA driver (or one too old for CUDA 13)";
        else if (e == cudaErrorNoDevice)
            q.reason = "no CUDA device";
        else
            q.reason = std::string("the CUDA runtime cannot start: ") + cudaGetErrorString(e);
        return q;
    }
    if (q.device_count == 0) {
        q.reason = "no CUDA device";
        return q;
    }
    if (device < 0 || device >= q.device_count) {
        q.reason = "device " + std::to_string(device) + " does not exist (" + std::to_string(q.device_count) +
                   " device" + (q.device_count == 1 ? "" : "s") + ")";
        return q;
    }
    cudaDeviceProp p{};
    if (const cudaError_t pe = cudaGetDeviceProperties(&p, device); pe != cudaSuccess) {
        cudaGetLastError();
        q.reason = std::string("cannot read device ") + std::to_string(device) + ": " + cudaGetErrorString(pe);
        return q;
    }
    q.name = p.name;
    q.major = p.major;
    q.minor = p.minor;
    q.total_bytes = p.totalGlobalMem;
    const int cc = p.major * 10 + p.minor;
    if (cc < min_compute_capability()) {
        q.reason = "compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) + " of " + q.name +
                   " is below " + std::to_string(min_compute_capability() / 10) + "." +
                   std::to_string(min_compute_capability() % 10) + ", the oldest this build has code for";
        return q;
    }
    q.usable = true;
    return q;
}

}  // namespace kvscope::cuda
