#pragma once
// The scoring stream's own output writer: the record's bytes with sds.anomaly and
// event.risk_score spliced in, written exactly as json::patch writes those two edits (set
// sds.anomaly, then set event.risk_score) but without its general machinery: no edit list, no
// arena, the values formatted straight into the output. Only the shapes nearly every record has
// are handled (no top-level "sds" member; "event" absent, or an object without "risk_score");
// for any other the writer writes nothing and returns false, and the caller uses json::patch.
//
// What json::patch does with those two edits, and so what this writes:
//   - neither "sds" nor "event" in the record: its text up to the closing brace, then
//     ,"sds":{"anomaly":A},"event":{"risk_score":R}}
//   - "event" an object: the members before it (each as written, joined by commas), "event"
//     with its members and then "risk_score":R, the rest of the record as written, and
//     ,"sds":{"anomaly":A}}
#include <simdjson.h>

#include <string>
#include <string_view>

namespace sds::score {

namespace splice_detail {

inline bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline size_t skip_ws(std::string_view s, size_t i) noexcept {
    while (i < s.size() && is_ws(s[i])) ++i;
    return i;
}
// The record is valid JSON (the reader parsed it), so any correct skip finds the same ends.
size_t skip_string(std::string_view s, size_t i) noexcept;  // s[i] == '"'; past the closing quote
size_t skip_value(std::string_view s, size_t i) noexcept;   // past the value starting at i

// Finds the first member of the record `s` (from its opening brace) whose key is written
// "event" and whose value is an object: s[key_start, key_end) is its quoted key,
// s[value_start, value_end) its value, and `rest` the record's text after it (from the next
// member to before the closing brace; empty when it was the last). Appends '{' and the members
// before it, each followed by a comma. False when there is no such member (then json::patch
// must do it; `out` is then to be cut back by the caller).
struct event_member {
    size_t key_start, key_end, value_start, value_end;
    std::string_view rest;
};
bool find_event(std::string_view s, std::string& out, event_member& e);
// Appends '{' and the event object's members, each followed by a comma (json::patch's way:
// whitespace between members dropped); false when it already has a "risk_score" (then
// json::patch replaces it in place).
bool write_event_members(std::string_view obj, std::string& out);
// Which of the edited top-level members the parsed record has (json::patch decides by the same
// lookups whether the new members can simply follow the record's text).
struct members_present {
    bool object, sds, event;
};
members_present present(simdjson::dom::element doc) noexcept;

}  // namespace splice_detail

// Appends `record` (valid JSON, an object, parsed as `doc`) to `out` with
// sds.anomaly = write_anomaly(out) and event.risk_score = write_risk(out); each callable
// appends one JSON value to the string it is given. Returns false, with `out` unchanged, when
// the record's shape is one for json::patch.
template <class A, class R>
bool splice_anomaly(std::string_view record, simdjson::dom::element doc, std::string& out, A&& write_anomaly,
                    R&& write_risk) {
    using namespace splice_detail;
    const members_present has = present(doc);
    if (!has.object || has.sds) return false;
    size_t start = skip_ws(record, 0);
    size_t end = record.size();
    while (end > start && is_ws(record[end - 1])) --end;
    if (end == start || record[end - 1] != '}' || record[start] != '{') return false;
    const size_t mark = out.size();
    if (!has.event) {
        size_t body_end = end - 1;
        while (body_end > start + 1 && is_ws(record[body_end - 1])) --body_end;
        out.append(record.data() + start, body_end - start);
        out.append(body_end == start + 1 ? "\"sds\":{\"anomaly\":" : ",\"sds\":{\"anomaly\":");
        write_anomaly(out);
        out.append("},\"event\":{\"risk_score\":");
        write_risk(out);
        out.append("}}");
        return true;
    }
    std::string_view s = record.substr(start);
    event_member e;
    if (!find_event(s, out, e)) {
        out.resize(mark);
        return false;
    }
    out.append(s.data() + e.key_start, e.key_end - e.key_start);
    out.push_back(':');
    if (!write_event_members(s.substr(e.value_start, e.value_end - e.value_start), out)) {
        out.resize(mark);
        return false;
    }
    out.append("\"risk_score\":");
    write_risk(out);
    out.push_back('}');
    if (!e.rest.empty()) {
        out.push_back(',');
        out.append(e.rest);
    }
    out.append(",\"sds\":{\"anomaly\":");
    write_anomaly(out);
    out.append("}}");
    return true;
}

}  // namespace sds::score
