#pragma once
// A forward cursor over a byte buffer that can never read outside it. Every
// read states what it is reading; when fewer bytes remain than asked for it
// throws GgufError "GGUF: truncated at offset N reading <what>". `what` is a
// callable so that the description is only built when the read fails (the
// tokenizer arrays of a real model hold ~100k strings).
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "gguf/gguf_file.h"

namespace kvscope::gguf {

static_assert(std::endian::native == std::endian::little,
              "GGUF is little-endian; the reader copies fields as they lie in memory");

// " in '<source>'" for messages, or nothing for in-memory buffers.
inline std::string source_suffix(std::string_view source) {
    if (source.empty() || source == "<memory>") return {};
    return " in '" + std::string(source) + "'";
}

[[noreturn]] inline void fail(std::string_view source, const std::string& message) {
    throw GgufError("GGUF: " + message + source_suffix(source));
}

class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size, std::string_view source)
        : data_(data), size_(size), source_(source) {}

    size_t pos() const { return pos_; }
    size_t size() const { return size_; }
    size_t remaining() const { return size_ - pos_; }
    std::string_view source() const { return source_; }

    template <typename T, typename What>
    T read(What&& what) {
        static_assert(std::is_trivially_copyable_v<T>);
        require(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    // n bytes as a view into the buffer.
    template <typename What>
    std::string_view bytes(uint64_t n, What&& what) {
        require(n, what);
        std::string_view v(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
        pos_ += static_cast<size_t>(n);
        return v;
    }

    // A GGUF string: u64 byte length, then the bytes (no terminator).
    template <typename What>
    std::string_view string(What&& what) {
        const size_t at = pos_;
        const uint64_t len = read<uint64_t>([&] { return what() + " length"; });
        if (len > remaining())
            fail(source_, "string length " + std::to_string(len) + " at offset " + std::to_string(at) +
                              " exceeds the " + std::to_string(remaining()) + " bytes left, reading " + what());
        return bytes(len, what);
    }

    template <typename What>
    void require(uint64_t n, What&& what) const {
        if (n > remaining())
            fail(source_, "truncated at offset " + std::to_string(pos_) + " reading " + what() + " (need " +
                              std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)");
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    std::string_view source_;
};

}  // namespace kvscope::gguf
