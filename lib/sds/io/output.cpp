#include "sds/io/output.hpp"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace sds::io {

output::output(const std::string& path, size_t block) { open(path, block); }

output::~output() {
    if (fd_ >= 0) {
        try {
            flush();
        } catch (...) {
        }
        if (owned_) ::close(fd_);
    }
}

void output::open(const std::string& path, size_t block) {
    if (path.empty() || path == "-") {
        open_fd(1, "stdout", false, block);
        return;
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw write_error("cannot open for writing: " + path + " (" + std::strerror(errno) + ")");
    open_fd(fd, path, true, block);
}

void output::open_fd(int fd, std::string name, bool owned, size_t block) {
    fd_ = fd;
    owned_ = owned;
    name_ = std::move(name);
    block_ = block;
    buf_.reserve(block + block / 4);
}

void output::flush() {
    write_all(buf_.data(), buf_.size());
    buf_.clear();
}

void output::write_all(const char* p, size_t left) {
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            buf_.clear();
            if (e == EPIPE) throw broken_pipe{};
            throw write_error("cannot write: " + name_ + " (" + std::strerror(e) + ")");
        }
        p += n;
        left -= static_cast<size_t>(n);
        written_ += static_cast<uint64_t>(n);
    }
}

void output::close() {
    if (fd_ < 0) return;
    flush();
    if (owned_) {
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) throw write_error("cannot close: " + name_ + " (" + std::strerror(errno) + ")");
    } else {
        fd_ = -1;
    }
}

}  // namespace sds::io
