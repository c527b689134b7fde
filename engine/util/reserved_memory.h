#pragma once
// A range of address space reserved at once and backed by memory only where
// it is written: the operating system hands out zeroed 4 KiB pages on first
// touch, so the process's resident memory follows what is used, while
// everything that will ever be used lies in one contiguous range (the CPU's
// prefetchers follow it as one stream; nothing ever moves).
#include <cstddef>
#include <cstdint>

namespace kvscope {

class ReservedMemory {
public:
    ReservedMemory() = default;
    // Throws kvscope::Error naming the size and the OS error.
    explicit ReservedMemory(size_t bytes);
    ~ReservedMemory();
    ReservedMemory(ReservedMemory&& other) noexcept;
    ReservedMemory& operator=(ReservedMemory&& other) noexcept;
    ReservedMemory(const ReservedMemory&) = delete;
    ReservedMemory& operator=(const ReservedMemory&) = delete;

    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    void release();
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace kvscope
