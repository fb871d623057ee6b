#include "sds/score/splice.hpp"

#include <cstring>

namespace sds::score::splice_detail {

size_t skip_string(std::string_view s, size_t i) noexcept {
    ++i;
    while (i < s.size()) {
        char c = s[i];
        if (c == '"') return i + 1;
        i += c == '\\' ? 2 : 1;
    }
    return s.size();
}

size_t skip_value(std::string_view s, size_t i) noexcept {
    if (i >= s.size()) return i;
    char c = s[i];
    if (c == '"') return skip_string(s, i);
    if (c == '{' || c == '[') {
        int depth = 0;
        while (i < s.size()) {
            char d = s[i];
            if (d == '"') {
                i = skip_string(s, i);
                continue;
            }
            if (d == '{' || d == '[') ++depth;
            else if ((d == '}' || d == ']') && --depth == 0) return i + 1;
            ++i;
        }
        return i;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
    return i;
}

namespace {

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

}  // namespace

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

}  // namespace sds::score::splice_detail
