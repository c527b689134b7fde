#include "backends/backend_options.h"

#include <algorithm>
#include <thread>

#include "util/error.h"

namespace kvscope {

const char* backend_kind_name(BackendKind kind) {
    switch (kind) {
        case BackendKind::Auto: return "auto";
        case BackendKind::Cpu: return "cpu";
        case BackendKind::Cuda: return "cuda";
    }
    return "?";
}

BackendKind parse_backend_kind(const std::string& name) {
    for (BackendKind k : {BackendKind::Auto, BackendKind::Cpu, BackendKind::Cuda})
        if (name == backend_kind_name(k)) return k;
    throw InvalidSetting("backend must be one of auto, cpu, cuda; got '" + name + "'");
}

void BackendOptions::validate() const {
    if (threads < 0 || threads > 1024)
        throw InvalidSetting("threads must be between 0 (all hardware threads) and 1024, got " + std::to_string(threads));
    if (device < 0 || device > 255)
        throw InvalidSetting("CUDA device must be between 0 and 255, got " + std::to_string(device));
}

int BackendOptions::cpu_threads() const {
    if (threads > 0) return threads;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace kvscope
