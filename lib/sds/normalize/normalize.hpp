#pragma once
// sds-normalize: raw records (NDJSON from sds-fetch) to ECS documents.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/core/time.hpp"
#include "sds/formats/vpcflow.hpp"
#include "sds/json/builder.hpp"
#include "sds/json/layout.hpp"
#include "sds/normalize/registry.hpp"

namespace sds::normalize {

struct options {
    std::vector<std::string> inputs;
    std::string format = "auto";
    bool keep_original = false;
    bool list_formats = false;
    std::string vpcflow_fields;  // custom VPC Flow field order ("version account-id ...")
    std::string ingested_time;   // fixed event.ingested (tests); empty = now
    unsigned threads = 0;        // worker threads; 0 = the online cores, 1 = all on the main thread
};

void add_options(cli::tool& t, options& o);
exit_code run(cli::tool& t, const options& o);

// The per-record work, callable without a tool (unit tests, fuzzers, bench).
class normalizer {
public:
    // Returns an error (exit_code::usage) for bad options.
    static expected<std::unique_ptr<normalizer>> make(const options& o);

    // Normalizes one raw record: `text` is the line (followed by simdjson padding or not),
    // `rec` its parsed object. On success the document(s) (each with '\n') are appended to
    // `out`; otherwise the rejection reason is returned and nothing is appended.
    status process(std::string_view text, formats::object rec, std::string& out);
    // Convenience for tests: parses `line` itself.
    status process_line(std::string_view line, std::string& out);

    // A new input stream begins (a VPC Flow header applies to the lines after it, in its file).
    void new_source() { vpcflow_.reset_header(); }
    // The state carried from one line to the next of a stream (a VPC Flow header's layout),
    // so that a stream cut into batches can be normalised by several normalizers.
    using stream_state = formats::vpcflow_parser::header_state;
    stream_state state() const noexcept { return vpcflow_.header(); }
    void set_state(const stream_state& s) noexcept { vpcflow_.set_header(s); }
    // The last process() read a layout line (VPC Flow header) and wrote nothing.
    bool was_header() const noexcept { return header_; }
    // Documents beyond the first written by the last process() (Security Hub findings[]).
    uint64_t extra_outputs() const noexcept { return extra_; }

    // The stable event.id fallbacks (DESIGN.md section 2), exposed for tests.
    static std::string provenance_id(std::string_view uri, uint64_t line);
    static std::string content_id(std::string_view raw);

private:
    normalizer();
    status dispatch(format_id f, std::string_view raw, formats::object rec);
    status process_findings(std::string_view raw, formats::object rec, formats::object target, std::string& out);
    status finish(const format_info* used, std::string_view raw, formats::object rec, std::string& out);
    // What every document gets, for either kind of document (Paths names its fields).
    template <class Doc, class Paths>
    status finish_doc(Doc& doc, const format_info* used, std::string_view raw, formats::object rec, std::string& out);
    status dispatch_text(std::string_view message, const format_info*& used);
    std::string_view ingested();

    std::optional<format_id> forced_;
    bool keep_original_ = false;
    std::string fixed_ingested_;
    time::millis last_now_ = -1;
    std::string now_text_;
    json::doc_builder doc_;
    json::layout_doc cloudtrail_doc_;  // CloudTrail's fast path (formats/cloudtrail.hpp)
    formats::json_scratch scratch_;
    simdjson::dom::parser inner_parser_;  // message-wrapped JSON
    std::string inner_buf_;
    simdjson::dom::parser line_parser_;  // process_line only
    std::string line_buf_;
    std::string id_buf_;
    formats::vpcflow_parser vpcflow_;
    bool header_ = false;
    uint64_t extra_ = 0;
};

}  // namespace sds::normalize
