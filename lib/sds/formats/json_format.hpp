#pragma once
// Contract between sds-normalize's driver and the parsers of JSON sources (CloudTrail, WAF,
// GuardDuty, Security Hub, Health, Suricata EVE), and the helpers they share. A parser reads
// one parsed record (a simdjson object, values viewed in place) and writes ECS fields into a
// doc_builder; the driver adds what every document gets (see text_format.hpp).
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sds/formats/text_format.hpp"
#include "sds/json/builder.hpp"

namespace sds::formats {

using simdjson::dom::element;
using simdjson::dom::object;

// Scratch space reused across records so parsers allocate nothing once warm.
struct json_scratch {
    std::string a, b, c;
};

// --- reading -------------------------------------------------------------------------------
// The string at key (empty when absent, null or not a string).
std::string_view str(object o, std::string_view key) noexcept;
// The object at key (false when absent or not an object).
bool obj(object o, std::string_view key, object& out) noexcept;
// The value at key, if any and not null.
bool val(object o, std::string_view key, element& out) noexcept;
// A value as text: strings as they are, numbers/booleans in JSON form (into scratch).
std::string_view scalar_text(element e, std::string& scratch);
// Walks "a.b.c" through nested objects only.
bool at_path(object o, std::string_view path, element& out) noexcept;

// --- writing -------------------------------------------------------------------------------
// Compact JSON of `e` with nulls, empty strings and containers that end up empty dropped (as
// Elastic's pipelines drop them). Returns false (and appends nothing) when nothing is left.
bool append_clean(std::string& out, element e);
// set_raw(path, clean JSON of e) when anything is left.
bool set_clean(json::doc_builder& doc, std::string_view path, element e, std::string& scratch);
// Copies a scalar (string/number/bool) as it is; a non-empty string only.
bool set_scalar(json::doc_builder& doc, std::string_view path, element e);
// set_string when non-empty.
inline void set_nonempty(json::doc_builder& doc, std::string_view path, std::string_view v) {
    if (!v.empty()) doc.set_string(path, v);
}
// Parses an ISO 8601 time and writes RFC 3339 UTC with ms. False when unparseable.
bool set_time(json::doc_builder& doc, std::string_view path, std::string_view text, std::string& scratch);
// Writes `<prefix>.address` = text and, when text is an IP, `<prefix>.ip` (and related.ip).
// A non-IP value stays in .address only. Returns true when it was an IP.
bool set_address(json::doc_builder& doc, std::string_view prefix, std::string_view text);
// Writes `path` = text when text is an IP (and related.ip); otherwise notes error.message.
bool set_ip(json::doc_builder& doc, std::string_view path, std::string_view text);
// Integer from a JSON number or a decimal string.
bool as_int(element e, int64_t& out) noexcept;
// Lower-cases ASCII into scratch.
std::string_view lower(std::string_view s, std::string& scratch);

}  // namespace sds::formats
