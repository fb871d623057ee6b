#pragma once
// Cuts a byte stream into lines. Lines wholly inside a chunk are handed out as views into it
// (no copy); a line that spans chunks is carried over in a padded buffer. CRLF endings are
// stripped, a missing final newline is tolerated, and a line longer than max_bytes is never
// truncated: it is reported whole as oversize and the stream resumes after its newline.
#include <cstdint>
#include <functional>
#include <string_view>

#include "sds/io/stream.hpp"

namespace sds::io {

class line_handler {
public:
    virtual ~line_handler() = default;
    // `line` has no '\n' / trailing '\r'; it is followed by io::padding readable bytes.
    // Blank lines are passed too (callers decide); `number` is 1-based.
    virtual status on_line(std::string_view line, uint64_t number) = 0;
    // A line of `bytes` bytes exceeded the limit; `prefix` is its first bytes.
    virtual status on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) = 0;
};

class line_splitter final : public chunk_consumer {
public:
    line_splitter(line_handler& handler, size_t max_bytes);
    status consume(std::string_view chunk) override;
    status finish() override;
    uint64_t lines() const noexcept { return line_no_; }

private:
    status emit(std::string_view line);
    void keep_prefix(const char* p, size_t n);
    status report_skipped();
    line_handler& h_;
    size_t max_;
    padded_buffer carry_;
    bool skipping_ = false;
    uint64_t skipped_bytes_ = 0;
    uint64_t line_no_ = 0;
    char last_ = 0;  // last byte of the line being skipped (a trailing '\r' is not counted)
};

}  // namespace sds::io
