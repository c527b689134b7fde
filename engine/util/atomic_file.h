#pragma once
// Writes a file so that readers see either the old file or the complete new
// one: data goes to a temporary file in the same directory, which finish()
// flushes and fsyncs and commit() renames over the target. Destroying an
// uncommitted AtomicFile removes the temporary. Every failure throws
// kvscope::Error naming the path and the OS error.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kvscope {

class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, size_t n);
    void write(std::string_view s) { write(s.data(), s.size()); }
    void finish();  // flush, fsync, close the temporary
    void commit();  // finish() if needed, then rename onto the target and fsync the directory
    const std::string& path() const { return path_; }

private:
    void flush();
    [[noreturn]] void fail(const std::string& what);

    std::string path_;
    std::string temp_;
    int fd_ = -1;
    bool committed_ = false;
    std::vector<char> buffer_;  // [<= kBufferBytes] bytes not yet written
};

// The whole content at once.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace kvscope
