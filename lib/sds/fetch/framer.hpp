#pragma once
// Cuts a stream of JSON text into records without parsing it: NDJSON lines, pretty-printed
// objects, Firehose-concatenated objects ("}{" with no newline), top-level arrays (one record
// per element) and CloudTrail's {"Records":[…]} wrapper, whose elements are streamed one by
// one so a 200 MB single-line log file runs in bounded memory. Only brackets, strings and
// escapes are tracked; each record is validated later by simdjson.
//
// Resynchronisation: once the stream has shown itself to be line-oriented (its first record
// ended on its first line), a record still open at the end of a line is cut there and
// reported bad, so one broken line cannot swallow its neighbours.
#include <cstdint>
#include <string>
#include <string_view>

#include "sds/io/stream.hpp"

namespace sds::fetch {

class framer_handler {
public:
    virtual ~framer_handler() = default;
    // A complete value starting with '{' or '[' (top level) or any element of an unwrapped
    // array. `text` is followed by io::padding readable bytes. `multiline` when it contains
    // raw newlines (and so must be compacted before it is written as one NDJSON line).
    // `element` is true for members of an unwrapped array ("Records" or a top-level array).
    virtual status on_value(std::string_view text, uint64_t line, bool element, bool multiline) = 0;
    // Something that is not a record: `reason`, the line it started on, and its text (or its
    // first bytes when it is oversize).
    virtual status on_bad(std::string_view reason, uint64_t line, std::string_view text) = 0;
};

class json_framer final : public io::chunk_consumer {
public:
    json_framer(framer_handler& h, size_t max_bytes);
    status consume(std::string_view chunk) override;
    status finish() override;

private:
    enum class mode : uint8_t { top, value, elements, element, scalar, tail, garbage };
    status complete(const char* chunk, size_t start, size_t end, bool element);
    status bad(std::string_view reason, const char* chunk, size_t start, size_t end);
    void collect(const char* chunk, size_t start, size_t end);
    void keep_prefix(const char* chunk, size_t start, size_t end);

    framer_handler& h_;
    size_t max_;
    mode mode_ = mode::top;
    int depth_ = 0;
    int elements_depth_ = 0;
    bool wrapper_ = false;
    bool in_str_ = false;
    bool esc_ = false;
    bool has_nl_ = false;
    bool line_mode_ = false;
    bool line_mode_known_ = false;
    bool oversize_ = false;
    uint64_t line_ = 1;
    uint64_t value_line_ = 1;
    uint64_t value_bytes_ = 0;
    int sniff_ = 0;  // first-key sniffing for {"Records":[ : 0 off, 1 want key, 2 in key, 3 want ':', 4 want value
    std::string key_;
    io::padded_buffer carry_;
};

// Removes whitespace outside strings (for pretty-printed records), appending to out.
void compact(std::string_view json, std::string& out);

}  // namespace sds::fetch
