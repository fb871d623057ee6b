#include "sds/score/splice.hpp"

#include <emmintrin.h>

#include <cstring>

#include "sds/json/skip.hpp"

namespace sds::score {

namespace {

// The record is valid JSON (the reader parsed it), so these skips find the same ends as
// json::patch's (they are the same functions).
using json::is_ws;
using json::skip_string;
using json::skip_value;
using json::skip_ws;

// One member of an object's text: s[key_start, key_end) the quoted key, s[value_start,
// value_end) the value; returns the index of the next member's key (or of the closing brace).
struct member {
    size_t key_start, key_end, value_start, value_end;
};
inline size_t read_member(std::string_view s, size_t i, member& m) noexcept {
    m.key_start = i;
    m.key_end = skip_string(s, i);
    m.value_start = skip_ws(s, skip_ws(s, m.key_end) + 1);
    m.value_end = skip_value(s, m.value_start);
    i = skip_ws(s, m.value_end);
    if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    return i;
}

// The key as written, without its quotes, equals `name` (json::patch compares the text too).
inline bool key_is(std::string_view s, const member& m, std::string_view name) noexcept {
    return m.key_end - m.key_start == name.size() + 2 && std::memcmp(s.data() + m.key_start + 1, name.data(), name.size()) == 0;
}

// Where the edited "event" member is: s[key_start, key_end) its quoted key, s[value_start,
// value_end) its object value, `rest` the record's text after it (from the next member to
// before the closing brace; empty when it was the last).
struct event_member {
    size_t key_start, key_end, value_start, value_end;
    std::string_view rest;
};

// Finds the first member of the record `s` (from its opening brace) whose key is written
// "event", appending '{' and the members before it, each followed by a comma (json::patch's
// way: whitespace between members dropped). False when there is none or its value is not an
// object (then json::patch must do it; the caller cuts `out` back).
bool find_event(std::string_view s, std::string& out, event_member& e) {
    out.push_back('{');
    size_t i = skip_ws(s, 1);
    while (i < s.size() && s[i] == '"') {
        member m;
        size_t next = read_member(s, i, m);
        if (key_is(s, m, "event")) {
            if (s[m.value_start] != '{') return false;
            e = event_member{m.key_start, m.key_end, m.value_start, m.value_end, {}};
            if (next < s.size() && s[next] == '"') {
                // The rest as written, up to the closing brace and the whitespace before it.
                size_t end = s.size();
                while (end > next && is_ws(s[end - 1])) --end;
                if (end > next && s[end - 1] == '}') --end;
                while (end > next && is_ws(s[end - 1])) --end;
                e.rest = s.substr(next, end - next);
            }
            return true;
        }
        out.append(s.data() + m.key_start, m.value_end - m.key_start);
        out.push_back(',');
        i = next;
    }
    return false;
}

// Appends '{' and the event object's members, each followed by a comma; false when it already
// has a "risk_score" (then json::patch replaces it in place).
bool write_event_members(std::string_view obj, std::string& out) {
    out.push_back('{');
    size_t i = skip_ws(obj, 1);
    while (i < obj.size() && obj[i] == '"') {
        member m;
        size_t next = read_member(obj, i, m);
        if (key_is(obj, m, "risk_score")) return false;
        out.append(obj.data() + m.key_start, m.value_end - m.key_start);
        out.push_back(',');
        i = next;
    }
    return true;
}

}  // namespace

members_present present(simdjson::dom::element doc) noexcept {
    members_present p{false, false, false};
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return p;
    p.object = true;
    for (auto field : obj) {
        std::string_view k = field.key;
        if (k == "sds") p.sds = true;
        else if (k == "event") p.event = true;
    }
    return p;
}

members_present present(bool object, std::span<const member_ref> members) noexcept {
    members_present p{object, false, false};
    for (const auto& m : members) {
        if (m.key == "sds") p.sds = true;
        else if (m.key == "event") p.event = true;
    }
    return p;
}

bool splice_head(std::string_view record, simdjson::dom::element doc, std::string& out, splice_plan& plan) {
    return splice_head(record, present(doc), out, plan);
}

bool splice_head(std::string_view record, members_present has, std::string& out, splice_plan& plan) {
    if (!has.object || has.sds) return false;
    size_t start = skip_ws(record, 0);
    size_t end = record.size();
    while (end > start && is_ws(record[end - 1])) --end;
    if (end == start || record[end - 1] != '}' || record[start] != '{') return false;
    if (!has.event) {
        size_t body_end = end - 1;
        while (body_end > start + 1 && is_ws(record[body_end - 1])) --body_end;
        out.append(record.data() + start, body_end - start);
        out.append(body_end == start + 1 ? "\"sds\":{\"anomaly\":" : ",\"sds\":{\"anomaly\":");
        plan = splice_plan{false, {}};
        return true;
    }
    const size_t mark = out.size();
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
    plan = splice_plan{true, e.rest};
    return true;
}

}  // namespace sds::score
