#pragma once
// The sinks behind sds-ship (lib-internal): each takes records on the input thread, reports
// deliveries and rejects back through the tool (only on the input thread), and finishes.
#include <simdjson.h>

#include <memory>
#include <string_view>

#include "sds/cli/tool.hpp"
#include "sds/ship/ship.hpp"

namespace sds::ship {

struct record_ref {
    std::string_view text;  // the document as it will be shipped
    simdjson::dom::element doc;
    std::string_view source;
    uint64_t line = 0;
};

class sink {
public:
    virtual ~sink() = default;
    // Takes one record (already counted as `in`). An error stops the input (fatal).
    virtual status add(const record_ref& r) = 0;
    // Flushes everything, waits for acknowledgements, reports; returns the worst outcome.
    virtual exit_code finish() = 0;
};

expected<std::unique_ptr<sink>> make_es_sink(cli::tool& t, const options& o);
expected<std::unique_ptr<sink>> make_file_sink(cli::tool& t, const options& o);
expected<std::unique_ptr<sink>> make_s3_sink(cli::tool& t, const options& o);

// Base64 (RFC 4648, padded), for Basic and ApiKey headers.
std::string base64(std::string_view in);
// Reads a secret from a file: the first line, without trailing CR/LF/blanks.
expected<std::string> read_secret_file(const std::string& path);

}  // namespace sds::ship
