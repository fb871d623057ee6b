#pragma once
// Turns framed values of one source object into output records: validates each with simdjson,
// unwraps CloudWatch Logs subscription payloads, skips CloudTrail digests (filtered), wraps
// text lines as {"message":…}, compacts pretty-printed records, adds @source when asked.
#include <simdjson.h>

#include <string>

#include "sds/cli/tool.hpp"
#include "sds/fetch/framer.hpp"
#include "sds/io/line_splitter.hpp"

namespace sds::fetch {

class emitter final : public framer_handler, public io::line_handler {
public:
    emitter(cli::tool& t, bool annotate) : t_(t), annotate_(annotate) {}
    // Starts a new source object: `name` for messages, `uri` for @source.
    void begin(std::string name, std::string uri) {
        name_ = std::move(name);
        uri_ = std::move(uri);
        ordinal_ = 0;
    }

    // framer_handler
    status on_value(std::string_view text, uint64_t line, bool element, bool multiline) override;
    status on_bad(std::string_view reason, uint64_t line, std::string_view text) override;
    // line_handler (text sources)
    status on_line(std::string_view line, uint64_t number) override;
    status on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) override;

    uint64_t records() const noexcept { return ordinal_; }

private:
    void write_record(std::string_view object_text, bool multiline);
    void unwrap_cloudwatch(simdjson::dom::object obj, std::string_view text, uint64_t line);
    void open_record();

    cli::tool& t_;
    bool annotate_;
    std::string name_, uri_;
    uint64_t ordinal_ = 0;
    simdjson::dom::parser parser_;
    std::string scratch_;
};

// Chooses, from the first non-blank byte of a decoded stream, between JSON framing and text
// lines, then forwards everything to the chosen consumer.
class sniffer final : public io::chunk_consumer {
public:
    sniffer(emitter& e, size_t max_bytes) : json_(e, max_bytes), text_(e, max_bytes) {}
    status consume(std::string_view chunk) override;
    status finish() override;

private:
    json_framer json_;
    io::line_splitter text_;
    io::chunk_consumer* target_ = nullptr;
    io::padded_buffer pending_;  // leading blank bytes, until the first real one decides
};

}  // namespace sds::fetch
