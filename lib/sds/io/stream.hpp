#pragma once
// Push-style byte streams: a producer (file reader, HTTP body) pushes chunks into a consumer
// (decoder, line splitter, JSON framer). Every chunk handed to consume() is followed by at
// least io::padding readable bytes, so record views into it can go straight to simdjson.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sds/core/expected.hpp"
#include "sds/io/buffer.hpp"

namespace sds::io {

class chunk_consumer {
public:
    virtual ~chunk_consumer() = default;
    // A chunk of bytes. A non-ok status stops the stream (e.g. corrupt compressed data).
    virtual status consume(std::string_view chunk) = 0;
    // End of stream.
    virtual status finish() = 0;
};

enum class compression { none, gzip, zstd };

// Detects gzip (1f 8b) or zstd (28 b5 2f fd) from the first bytes and decodes in-stream;
// other data passes through. Decoded output is pushed to `next` in large padded chunks.
class auto_decoder final : public chunk_consumer {
public:
    explicit auto_decoder(chunk_consumer& next, size_t out_chunk = 1 << 20);
    ~auto_decoder() override;
    status consume(std::string_view chunk) override;
    status finish() override;
    compression detected() const noexcept { return kind_; }
    uint64_t bytes_out() const noexcept { return bytes_out_; }

private:
    struct impl;
    status start(std::string_view chunk);
    status pass(std::string_view chunk);
    status fail(std::string msg);
    chunk_consumer& next_;
    size_t out_chunk_;
    compression kind_ = compression::none;
    bool started_ = false;
    padded_buffer sniff_;  // first bytes, until we know the kind
    std::unique_ptr<impl> impl_;
    uint64_t bytes_out_ = 0;
};

// Reads a file descriptor in large blocks and pushes it into `sink` (no finish() call).
struct read_result {
    uint64_t bytes = 0;
    bool stopped = false;
};
// Stops early (stopped = true) when an interrupt was requested (core/signals.hpp).
expected<read_result> pump_fd(int fd, std::string_view name, chunk_consumer& sink,
                              size_t block = 1 << 20);

}  // namespace sds::io
