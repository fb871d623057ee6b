#include "sds/io/ndjson.hpp"

#include <fmt/format.h>

namespace sds::io {

std::string json_error_reason(simdjson::error_code e) {
    switch (e) {
        case simdjson::UTF8_ERROR: return "invalid UTF-8";
        case simdjson::CAPACITY: return "record too large for the parser";
        case simdjson::DEPTH_ERROR: return "invalid JSON (nested too deeply)";
        case simdjson::UNCLOSED_STRING: return "invalid JSON (unclosed string)";
        case simdjson::TAPE_ERROR: return "invalid JSON (structure error)";
        case simdjson::STRING_ERROR: return "invalid JSON (bad string escape)";
        case simdjson::T_ATOM_ERROR:
        case simdjson::F_ATOM_ERROR:
        case simdjson::N_ATOM_ERROR: return "invalid JSON (bad literal)";
        case simdjson::NUMBER_ERROR: return "invalid JSON (bad number)";
        case simdjson::EMPTY: return "invalid JSON (empty)";
        default: return fmt::format("invalid JSON ({})", simdjson::error_message(e));
    }
}

ndjson_reader::ndjson_reader(record_sink& sink, std::string source)
    : sink_(sink), source_(std::move(source)) {}

status ndjson_reader::on_line(std::string_view line, uint64_t number) {
    // Skip blank lines (spaces/tabs only).
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) return status::success();
    simdjson::dom::element doc;
    auto err = parser_.parse(line.data(), line.size(), false).get(doc);
    if (err) {
        sink_.on_reject(json_error_reason(err), source_, number, line);
        return status::success();
    }
    if (!doc.is_object()) {
        sink_.on_reject("not a JSON object", source_, number, line);
        return status::success();
    }
    return sink_.on_record(record{line, number, source_, doc});
}

status ndjson_reader::on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) {
    sink_.on_reject(fmt::format("record of {} bytes exceeds --max-record-bytes (first bytes kept)", bytes), source_,
                    number, prefix);
    return status::success();
}

}  // namespace sds::io
