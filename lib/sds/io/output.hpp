#pragma once
// Buffered output to a file descriptor: records are appended to a reused buffer and written
// in large blocks; short writes and EINTR are handled. A closed pipe (EPIPE) raises
// broken_pipe, which the CLI frame turns into a quiet exit 0; other write failures raise
// write_error (exit 3). These are the only exceptions on the data path: both end the run.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sds::io {

struct broken_pipe {};
struct write_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class output {
public:
    output() = default;
    // Opens `path` for writing ("-" or "" = stdout). Throws write_error when it cannot.
    explicit output(const std::string& path, size_t block = 1 << 20);
    ~output();
    output(const output&) = delete;
    output& operator=(const output&) = delete;

    void open(const std::string& path, size_t block = 1 << 20);
    void open_fd(int fd, std::string name, bool owned, size_t block = 1 << 20);
    bool is_open() const noexcept { return fd_ >= 0; }

    // The buffer records are built in; call commit() after appending whole records.
    std::string& buffer() noexcept { return buf_; }
    void commit() {
        if (buf_.size() >= block_) flush();
    }
    void write(std::string_view s) {
        buf_.append(s);
        commit();
    }
    // Whole records already assembled elsewhere (a worker's batch): a large block goes to the
    // descriptor as it is when nothing is buffered, instead of being copied into the buffer.
    void write_records(std::string_view s) {
        if (buf_.empty() && s.size() >= block_ / 2) {
            write_all(s.data(), s.size());
            return;
        }
        write(s);
    }
    void flush();
    // Flushes and, for files, fsyncs/closes; errors raise write_error.
    void close();
    uint64_t bytes_written() const noexcept { return written_; }
    const std::string& name() const noexcept { return name_; }

private:
    void write_all(const char* p, size_t left);

    int fd_ = -1;
    bool owned_ = false;
    size_t block_ = 1 << 20;
    std::string buf_;
    std::string name_;
    uint64_t written_ = 0;
};

}  // namespace sds::io
