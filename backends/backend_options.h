#pragma once
// Which backend a front end asks for: auto (CUDA when a usable device exists,
// else the CPU), cpu or cuda, with the CPU's thread count and the CUDA device.
#include <string>

namespace kvscope {

enum class BackendKind { Auto, Cpu, Cuda };

const char* backend_kind_name(BackendKind kind);  // "auto", "cpu", "cuda"
// Throws InvalidSetting listing the names above.
BackendKind parse_backend_kind(const std::string& name);

struct BackendOptions {
    BackendKind kind = BackendKind::Auto;
    int threads = 0;  // CPU threads; 0 = the machine's hardware threads
    int device = 0;   // CUDA device index

    // Throws InvalidSetting naming the setting and its range.
    void validate() const;
    // The CPU thread count these options give (threads, or the hardware's).
    int cpu_threads() const;
};

}  // namespace kvscope
