#pragma once
// Writing a file atomically: the content goes to a temporary file in the same
// folder, which is flushed and renamed over the target, so readers see the
// old file or the new one, never a partial write.
#include <string>
#include <string_view>

namespace kvscope {

// Throws kvscope::Error naming `path` and the reason when it cannot be written.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace kvscope
