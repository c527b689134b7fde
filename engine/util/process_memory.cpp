#include "util/process_memory.h"

#include <fstream>
#include <string>
#include <unistd.h>

namespace kvscope {
namespace {

// Reads a "Key:   123 kB" line of /proc/self/status.
size_t status_kib(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) return static_cast<size_t>(std::stoull(line.substr(key.size() + 1))) * 1024;
    }
    return 0;
}

}  // namespace

size_t current_rss_bytes() { return status_kib("VmRSS"); }
size_t peak_rss_bytes() { return status_kib("VmHWM"); }

size_t total_ram_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
}

}  // namespace kvscope
