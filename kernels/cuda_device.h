#pragma once
// The CUDA device query: whether a device can run this build's kernels, and
// if not, why (no driver, no device, too old a compute capability, ...).
// Host code against the CUDA runtime; it never creates a context (which would
// cost hundreds of MB of device memory), so asking is free.
#include <cstddef>
#include <string>

namespace kvscope::cuda {

struct DeviceQuery {
    bool usable = false;
    std::string reason;       // why not, when not usable
    int device_count = 0;
    std::string name;         // e.g. "NVIDIA H200"
    int major = 0, minor = 0; // compute capability
    size_t total_bytes = 0;   // device memory
    // "NVIDIA H200 (compute capability 9.0, 139.8 GiB)"
    std::string description() const;
};

// The oldest compute capability this build has code for (SASS or PTX), as
// major * 10 + minor, from CMAKE_CUDA_ARCHITECTURES.
int min_compute_capability();

DeviceQuery query_device(int device);

}  // namespace kvscope::cuda
