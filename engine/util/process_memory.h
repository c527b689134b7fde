#pragma once
// Host memory figures of this process (Linux /proc).
#include <cstddef>

namespace kvscope {

size_t current_rss_bytes();  // resident set size now (0 if unknown)
size_t peak_rss_bytes();     // high-water mark of the resident set (0 if unknown)
size_t total_ram_bytes();    // physical memory of the machine (0 if unknown)

}  // namespace kvscope
