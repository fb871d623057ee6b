#pragma once
// NDJSON input: one reused simdjson parser over lines cut by line_splitter. A line that is not
// valid UTF-8, not valid JSON, not an object, or too long is rejected alone (with its line
// number); blank lines are skipped; neighbours are never harmed.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sds/io/line_splitter.hpp"

namespace sds::io {

struct record {
    std::string_view text;  // the line, followed by io::padding readable bytes
    uint64_t line = 0;      // 1-based line number in its source
    std::string_view source;
    simdjson::dom::element doc;  // a JSON object
};

class record_sink {
public:
    virtual ~record_sink() = default;
    virtual status on_record(const record& r) = 0;
    virtual void on_reject(std::string_view reason, std::string_view source, uint64_t line, std::string_view text) = 0;
};

class ndjson_reader final : public line_handler {
public:
    ndjson_reader(record_sink& sink, std::string source);
    void set_source(std::string source) { source_ = std::move(source); }
    status on_line(std::string_view line, uint64_t number) override;
    status on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) override;
    simdjson::dom::parser& parser() noexcept { return parser_; }

private:
    record_sink& sink_;
    std::string source_;
    simdjson::dom::parser parser_;
    std::string scratch_;
};

// A short reason for a simdjson error, as used in dead letters ("invalid JSON (...)").
std::string json_error_reason(simdjson::error_code e);

}  // namespace sds::io
