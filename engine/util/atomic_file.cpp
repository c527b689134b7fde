#include "util/atomic_file.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace kvscope {
namespace {
constexpr size_t kBufferBytes = 1 << 20;

std::string directory_of(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    temp_ = path_ + ".tmp-XXXXXX";
    fd_ = ::mkstemp(temp_.data());
    if (fd_ < 0) {
        const int err = errno;
        temp_.clear();
        throw Error("cannot write " + path_ + ": " + std::strerror(err));
    }
    ::fchmod(fd_, 0644);  // mkstemp creates 0600; the result is an ordinary rw-r--r-- file
    buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::fail(const std::string& what) {
    const int err = errno;
    throw Error("cannot write " + path_ + ": " + what + (err ? std::string(": ") + std::strerror(err) : ""));
}

void AtomicFile::flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        done += static_cast<size_t>(n);
    }
    buffer_.clear();
}

void AtomicFile::write(const void* data, size_t n) {
    if (fd_ < 0) throw Error("cannot write " + path_ + ": file already finished");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const size_t take = std::min(n, kBufferBytes - buffer_.size());
        buffer_.insert(buffer_.end(), p, p + take);
        p += take;
        n -= take;
        if (buffer_.size() == kBufferBytes) flush();
    }
}

void AtomicFile::finish() {
    if (fd_ < 0) return;
    flush();
    if (::fsync(fd_) != 0) fail("fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("close failed");
}

void AtomicFile::commit() {
    finish();
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) fail("rename failed");
    committed_ = true;
    const int dir = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);  // best effort: the rename is durable once the directory is
        ::close(dir);
    }
}

}  // namespace kvscope

namespace kvscope {

void write_file_atomically(const std::string& path, std::string_view content) {
    AtomicFile f(path);
    f.write(content);
    f.commit();
}

}  // namespace kvscope
