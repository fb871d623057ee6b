#include "sds/formats/json_format.hpp"

#include "sds/core/ip.hpp"
#include "sds/core/time.hpp"
#include "sds/json/escape.hpp"

namespace sds::formats {

using simdjson::dom::element_type;

std::string_view str(object o, std::string_view key) noexcept {
    std::string_view s;
    if (o.at_key(key).get_string().get(s)) return {};
    return s;
}

bool obj(object o, std::string_view key, object& out) noexcept { return !o.at_key(key).get_object().get(out); }

bool val(object o, std::string_view key, element& out) noexcept {
    if (o.at_key(key).get(out)) return false;
    return !out.is_null();
}

bool at_path(object o, std::string_view path, element& out) noexcept {
    for (;;) {
        size_t dot = path.find('.');
        if (dot == std::string_view::npos) return val(o, path, out);
        if (!obj(o, path.substr(0, dot), o)) return false;
        path.remove_prefix(dot + 1);
    }
}

std::string_view scalar_text(element e, std::string& scratch) {
    switch (e.type()) {
        case element_type::STRING: return std::string_view(e);
        case element_type::INT64: scratch.clear(); json::append_int(scratch, int64_t(e)); return scratch;
        case element_type::UINT64: scratch.clear(); json::append_uint(scratch, uint64_t(e)); return scratch;
        case element_type::DOUBLE: scratch.clear(); json::append_double(scratch, double(e)); return scratch;
        case element_type::BOOL: return bool(e) ? std::string_view("true") : std::string_view("false");
        default: return {};
    }
}

bool append_clean(std::string& out, element e) {
    const size_t mark = out.size();
    switch (e.type()) {
        case element_type::NULL_VALUE: return false;
        case element_type::STRING: {
            std::string_view s(e);
            if (s.empty()) return false;
            json::append_string(out, s);
            return true;
        }
        case element_type::ARRAY: {
            out.push_back('[');
            bool any = false;
            for (element c : simdjson::dom::array(e)) {
                if (any) out.push_back(',');
                size_t before = out.size();
                if (append_clean(out, c)) {
                    any = true;
                } else {
                    out.resize(before);
                    if (any) out.pop_back();
                }
            }
            if (!any) {
                out.resize(mark);
                return false;
            }
            out.push_back(']');
            return true;
        }
        case element_type::OBJECT: {
            out.push_back('{');
            bool any = false;
            for (auto field : simdjson::dom::object(e)) {
                size_t before = out.size();
                if (any) out.push_back(',');
                json::append_string(out, field.key);
                out.push_back(':');
                if (append_clean(out, field.value)) {
                    any = true;
                } else {
                    out.resize(before);
                }
            }
            if (!any) {
                out.resize(mark);
                return false;
            }
            out.push_back('}');
            return true;
        }
        case element_type::INT64: json::append_int(out, int64_t(e)); return true;
        case element_type::UINT64: json::append_uint(out, uint64_t(e)); return true;
        case element_type::DOUBLE: json::append_double(out, double(e)); return true;
        case element_type::BOOL: out.append(bool(e) ? "true" : "false"); return true;
    }
    return false;
}

bool set_clean(json::doc_builder& doc, std::string_view path, element e, std::string& scratch) {
    scratch.clear();
    if (!append_clean(scratch, e)) return false;
    doc.set_raw(path, scratch);
    return true;
}

bool set_scalar(json::doc_builder& doc, std::string_view path, element e) {
    switch (e.type()) {
        case element_type::STRING: {
            std::string_view s(e);
            if (s.empty()) return false;
            doc.set_string(path, s);
            return true;
        }
        case element_type::INT64: doc.set_int(path, int64_t(e)); return true;
        case element_type::UINT64: doc.set_uint(path, uint64_t(e)); return true;
        case element_type::DOUBLE: doc.set_double(path, double(e)); return true;
        case element_type::BOOL: doc.set_bool(path, bool(e)); return true;
        default: return false;
    }
}

bool set_time(json::doc_builder& doc, std::string_view path, std::string_view text, std::string& scratch) {
    auto t = time::parse_iso8601(text);
    if (!t) return false;
    scratch.clear();
    time::append_rfc3339(scratch, *t);
    doc.set_string(path, scratch);
    return true;
}

bool set_address(json::doc_builder& doc, std::string_view prefix, std::string_view text) {
    if (text.empty()) return false;
    char path[64];
    const size_t n = prefix.size();
    if (n + 9 > sizeof path) return false;
    prefix.copy(path, n);
    std::string_view addr_suffix = ".address";
    addr_suffix.copy(path + n, addr_suffix.size());
    doc.set_string(std::string_view(path, n + addr_suffix.size()), text);
    if (!ip::is_ip(text)) return false;
    std::string_view ip_suffix = ".ip";
    ip_suffix.copy(path + n, ip_suffix.size());
    doc.set_string(std::string_view(path, n + ip_suffix.size()), text);
    doc.push_string("related.ip", text, true);
    return true;
}

bool set_ip(json::doc_builder& doc, std::string_view path, std::string_view text) {
    if (text.empty()) return false;
    if (!ip::is_ip(text)) {
        note_error(doc, std::string("'") .append(text).append("' in ").append(path).append(" is not an IP address"));
        return false;
    }
    doc.set_string(path, text);
    doc.push_string("related.ip", text, true);
    return true;
}

bool as_int(element e, int64_t& out) noexcept {
    switch (e.type()) {
        case element_type::INT64: out = int64_t(e); return true;
        case element_type::UINT64: out = int64_t(uint64_t(e)); return true;
        case element_type::STRING: {
            std::string_view s(e);
            if (s.empty() || s.size() > 18) return false;
            int64_t v = 0;
            for (char c : s) {
                if (c < '0' || c > '9') return false;
                v = v * 10 + (c - '0');
            }
            out = v;
            return true;
        }
        default: return false;
    }
}

std::string_view lower(std::string_view s, std::string& scratch) {
    scratch.assign(s);
    for (char& c : scratch)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return scratch;
}

}  // namespace sds::formats
