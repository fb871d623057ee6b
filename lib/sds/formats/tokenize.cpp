#include "sds/formats/tokenize.hpp"

namespace sds::formats::text {

void set_tls_version(json::doc_builder& doc, std::string_view protocol) {
    // "TLSv1.2", "tlsv12", "SSLv3", "TLSv1_3"
    size_t v = protocol.find_first_of("vV");
    if (v == std::string_view::npos || v == 0 || v + 1 >= protocol.size()) return;
    std::string_view name = protocol.substr(0, v), num = protocol.substr(v + 1);
    if (num.find_first_of("vV") != std::string_view::npos) return;
    char lower[8];
    if (name.size() > sizeof lower) return;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    }
    char ver[16];
    size_t n = 0;
    if (num.find('.') != std::string_view::npos) {
        if (num.size() > sizeof ver) return;
        for (char c : num) ver[n++] = c;
    } else if (num.find('_') != std::string_view::npos) {
        if (num.size() > sizeof ver) return;
        for (char c : num) ver[n++] = c == '_' ? '.' : c;
    } else {
        if (num.size() + 1 > sizeof ver) return;
        ver[n++] = num[0];
        if (num.size() > 1) {
            ver[n++] = '.';
            for (size_t i = 1; i < num.size(); ++i) ver[n++] = num[i];
        }
    }
    doc.set_string("tls.version", std::string_view(ver, n));
    doc.set_string("tls.version_protocol", std::string_view(lower, name.size()));
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes s into out (as Elastic's uri_parts reports path and query); returns s itself
// when there is nothing to decode or an escape is malformed.
std::string_view percent_decode(std::string_view s, std::string& out) {
    if (s.find('%') == std::string_view::npos) return s;
    out.clear();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return s;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return s;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

}  // namespace

bool set_url_parts(json::doc_builder& doc, std::string_view url, std::string_view* host_out) {
    std::string_view rest = url;
    std::string_view scheme, userinfo, host, port;
    size_t colon = rest.find("://");
    if (colon != std::string_view::npos && colon > 0 && rest.substr(0, colon).find_first_of("/?#") == std::string_view::npos) {
        scheme = rest.substr(0, colon);
        for (char c : scheme)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' || c == '-' || c == '.'))
                return false;
        rest.remove_prefix(colon + 3);
        size_t end = rest.find_first_of("/?#");
        std::string_view authority = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
        size_t at = authority.rfind('@');
        if (at != std::string_view::npos) {
            userinfo = authority.substr(0, at);
            authority.remove_prefix(at + 1);
        }
        if (!authority.empty() && authority.front() == '[') {
            size_t rb = authority.find(']');
            if (rb == std::string_view::npos) return false;
            host = authority.substr(1, rb - 1);
            std::string_view after = authority.substr(rb + 1);
            if (!after.empty()) {
                if (after.front() != ':') return false;
                port = after.substr(1);
            }
        } else {
            size_t pc = authority.rfind(':');
            host = authority.substr(0, pc);
            if (pc != std::string_view::npos) port = authority.substr(pc + 1);
        }
        if (host.empty()) return false;
        if (!port.empty() && !to_int<uint16_t>(port)) return false;
    } else if (rest.empty() || rest.front() != '/') {
        return false;
    }
    std::string_view path = rest, query, fragment;
    size_t hash = path.find('#');
    if (hash != std::string_view::npos) {
        fragment = path.substr(hash + 1);
        path = path.substr(0, hash);
    }
    size_t q = path.find('?');
    bool has_query = q != std::string_view::npos;
    if (has_query) {
        query = path.substr(q + 1);
        path = path.substr(0, q);
    }
    if (!scheme.empty()) doc.set_string("url.scheme", scheme);
    if (!host.empty()) doc.set_string("url.domain", host);
    if (host_out) *host_out = host;
    if (!port.empty()) doc.set_int("url.port", *to_int<uint16_t>(port));
    if (!userinfo.empty()) {
        size_t c = userinfo.find(':');
        doc.set_string("url.username", userinfo.substr(0, c));
        if (c != std::string_view::npos) doc.set_string("url.password", userinfo.substr(c + 1));
    }
    if (!path.empty()) {
        thread_local std::string decoded;
        doc.set_string("url.path", percent_decode(path, decoded));
        std::string_view last = path.substr(path.rfind('/') + 1);
        size_t dot = last.rfind('.');
        if (dot != std::string_view::npos && dot + 1 < last.size()) doc.set_string("url.extension", last.substr(dot + 1));
    }
    if (has_query && !query.empty()) {
        thread_local std::string decoded;
        doc.set_string("url.query", percent_decode(query, decoded));
    }
    if (!fragment.empty()) doc.set_string("url.fragment", fragment);
    return true;
}

}  // namespace sds::formats::text
