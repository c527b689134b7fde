#pragma once
// A read-only memory map of a whole file. Model weights are used in place
// from the map: nothing is copied or expanded at load time.
#include <cstddef>
#include <cstdint>
#include <string>

namespace kvscope {

class MappedFile {
public:
    // Throws kvscope::Error naming the path and the OS error.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace kvscope
