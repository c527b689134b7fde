#include "qt_runtime.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace kvscope::cli {

void ensure_runtime_dir() {
    if (std::getenv("XDG_RUNTIME_DIR") != nullptr) return;
    const std::string dir = "/tmp/kvscope-runtime-" + std::to_string(::getuid());
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
    ::setenv("XDG_RUNTIME_DIR", dir.c_str(), 0);
}

}  // namespace kvscope::cli
