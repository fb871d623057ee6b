#include "sds/formats/access_log.hpp"

#include "sds/core/ip.hpp"
#include "sds/formats/tokenize.hpp"

namespace sds::formats {

namespace {

bool is_dash(std::string_view s) { return s == "-" || s.empty(); }

// "[10/Oct/2000:13:55:36 -0700]" at the start of s → the text inside the brackets.
std::optional<std::string_view> bracket_time(std::string_view s) {
    if (s.size() < 28 || s[0] != '[') return std::nullopt;
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return s.substr(1, close - 1);
}

bool word_chars(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || text::is_digit(c) || c == '_')) return false;
    return true;
}

void set_request(json::doc_builder& doc, std::string_view req) {
    if (is_dash(req)) return;
    std::string_view rest = req;
    size_t sp = rest.rfind(' ');
    if (sp == std::string_view::npos) return;
    std::string_view version = rest.substr(sp + 1);
    if (!version.starts_with("HTTP/") || version.size() == 5) return;
    doc.set_string("http.version", version.substr(5));
    rest = rest.substr(0, sp);
    size_t sp1 = rest.find(' ');
    std::string_view method = rest.substr(0, sp1);
    std::string_view url = sp1 == std::string_view::npos ? std::string_view{} : rest.substr(sp1 + 1);
    if (word_chars(method)) doc.set_string("http.request.method", method);
    else if (method != "-") return;
    if (is_dash(url)) return;
    doc.set_string("url.original", url);
    text::set_url_parts(doc, url);
}

bool private_addr(std::string_view s) {
    auto a = ip::parse(s);
    return !a || ip::is_private_or_reserved(*a);
}

struct names {
    std::string_view list, identity;
};
names names_for(access_log_flavour f) {
    if (f == access_log_flavour::apache) return {"apache.access.remote_addresses", "apache.access.identity"};
    return {"nginx.access.remote_ip_list", "nginx.access.identity"};
}

void common_fields(json::doc_builder& doc) {
    doc.set_string("event.kind", "event");
    doc.push_string("event.category", "web");
    doc.push_string("event.type", "access");
}

// Apache mod_ssl request log: [time] client protocol cipher "request" bytes
parse_status parse_ssl_request(std::string_view line, json::doc_builder& doc, access_log_flavour flavour) {
    auto tm = bracket_time(line);
    if (!tm) return reject("access log: no [time]");
    auto t = time::parse_clf(*tm);
    if (!t) return reject("access log: invalid time");
    text::cursor c(line.substr(tm->size() + 2));
    auto client = c.word(), proto = c.word(), cipher = c.word();
    auto req = c.next();
    auto bytes = c.word();
    if (!req || !bytes || !req->quoted) return reject("access log: malformed SSL request log line");
    common_fields(doc);
    text::set_time(doc, "@timestamp", *t);
    doc.set_string(flavour == access_log_flavour::apache ? "apache.access.ssl.protocol" : "nginx.access.ssl.protocol", *proto);
    doc.set_string(flavour == access_log_flavour::apache ? "apache.access.ssl.cipher" : "nginx.access.ssl.cipher", *cipher);
    doc.set_string("tls.cipher", *cipher);
    text::set_tls_version(doc, *proto);
    doc.set_string("source.address", *client);
    doc.push_string(names_for(flavour).list, *client);
    if (ip::is_ip(*client)) {
        doc.set_string("source.ip", *client);
        doc.push_string("related.ip", *client, true);
    }
    set_request(doc, req->value);
    if (!is_dash(*bytes)) {
        if (auto n = text::to_int<int64_t>(*bytes)) doc.set_int("http.response.body.bytes", *n);
        else note_error(doc, "access log: bytes is not a number");
    }
    return {};
}

}  // namespace

bool looks_like_access_log(std::string_view line) {
    if (line.starts_with('[')) {
        auto tm = bracket_time(line);
        return tm && time::parse_clf(*tm) && line.find('"') != std::string_view::npos;
    }
    size_t lb = line.find(" [");
    if (lb == std::string_view::npos || lb == 0 || lb > 512) return false;
    auto tm = bracket_time(line.substr(lb + 1));
    if (!tm || !time::parse_clf(*tm)) return false;
    std::string_view after = line.substr(lb + 1 + tm->size() + 2);
    return after.starts_with(" \"");
}

access_log_flavour guess_access_log_flavour(std::string_view line) {
    if (line.starts_with('[') || line.find(" X-Forwarded-For=\"") != std::string_view::npos) return access_log_flavour::apache;
    return access_log_flavour::nginx;
}

parse_status parse_access_log(std::string_view line, json::doc_builder& doc, access_log_flavour flavour) {
    if (line.starts_with('[')) return parse_ssl_request(line, doc, flavour);
    size_t lb = line.find(" [");
    if (lb == std::string_view::npos || lb == 0) return reject("access log: no [time]");
    auto tm = bracket_time(line.substr(lb + 1));
    if (!tm) return reject("access log: no [time]");
    auto t = time::parse_clf(*tm);
    if (!t) return reject("access log: invalid time");

    // Before the time: [vhost[:port]] client-list ident user.
    std::array<std::string_view, 32> tok{};
    size_t n = 0;
    {
        text::cursor c(line.substr(0, lb));
        while (auto w = c.word()) {
            if (n == tok.size()) return reject("access log: too many fields before the time");
            tok[n++] = *w;
        }
    }
    if (n < 3) return reject("access log: missing client, ident or user");
    std::string_view ident = tok[n - 2], user = tok[n - 1];
    size_t first = 0;
    std::string_view vhost;
    if (n - 2 >= 2 && !tok[0].ends_with(',') && !tok[0].starts_with('"')) vhost = tok[0], first = 1;

    // After the time: "request" status bytes [response_time] ["referrer" "ua"] [...]
    text::cursor c(line.substr(lb + 1 + tm->size() + 2));
    auto req = c.next();
    if (!req || !req->quoted) return reject("access log: malformed request field");
    auto status = c.word(), bytes = c.word();
    if (!bytes) return reject("access log: truncated line");
    auto st = text::to_int<int>(*status);
    if (!st) return reject("access log: status is not a number");

    common_fields(doc);
    text::set_time(doc, "@timestamp", *t);
    names nm = names_for(flavour);
    bool dst_ip = false;
    std::string_view dst_host;
    if (!vhost.empty()) {
        std::string_view host = vhost, port;
        if (auto hp = text::split_host_port(vhost); hp && text::to_int<uint16_t>(hp->port) && !ip::is_ip(vhost))
            host = hp->host, port = hp->port;
        if ((dst_ip = ip::is_ip(host))) doc.set_string("destination.ip", host);
        else {
            doc.set_string("destination.domain", host);
            if (flavour == access_log_flavour::nginx) doc.set_string("url.domain", host);
        }
        dst_host = host;
        if (!port.empty()) doc.set_int("destination.port", *text::to_int<uint16_t>(port));
    }
    // Client list: "a, b c" (NGINX with real_ip / proxies), quotes stripped.
    std::string_view src;
    auto add_client = [&](std::string_view a) {
        while (!a.empty() && (a.front() == '"' || a.front() == ',')) a.remove_prefix(1);
        while (!a.empty() && (a.back() == '"' || a.back() == ',')) a.remove_suffix(1);
        if (a.empty()) return;
        doc.push_string(nm.list, a);
        if (src.empty() || (private_addr(src) && !private_addr(a))) src = a;
    };
    for (size_t i = first; i < n - 2; ++i) add_client(tok[i]);
    if (!is_dash(ident)) doc.set_string(nm.identity, ident);
    if (!is_dash(user)) {
        doc.set_string("user.name", user);
        doc.push_string("related.user", user, true);
    }
    set_request(doc, req->value);
    doc.set_int("http.response.status_code", *st);
    doc.set_string("event.outcome", *st < 400 ? "success" : "failure");
    if (!is_dash(*bytes)) {
        if (auto b = text::to_int<int64_t>(*bytes)) doc.set_int("http.response.body.bytes", *b);
        else note_error(doc, "access log: bytes is not a number");
    }
    // Optional tail.
    auto f = c.next();
    if (f && !f->quoted && text::to_int<int64_t>(f->value)) {
        if (flavour == access_log_flavour::apache) doc.set_int("apache.access.response_time", *text::to_int<int64_t>(f->value));
        f = c.next();
    }
    if (f && f->quoted) {
        if (!is_dash(f->value)) doc.set_string("http.request.referrer", f->value);
        f = c.next();
        if (f && f->quoted) {
            if (!is_dash(f->value)) doc.set_string("user_agent.original", f->value);
            f = c.next();
        }
    }
    while (f) {
        if (!f->quoted && f->value.starts_with("X-Forwarded-For=\"")) {
            std::string_view list = f->value.substr(17);
            // The header value may contain spaces ("a, b"): take the rest of the line.
            std::string_view rest = c.rest();
            size_t end = list.find('"');
            if (end == std::string_view::npos) {
                size_t q = rest.find('"');
                list = std::string_view(list.data(), q == std::string_view::npos ? list.size() : size_t(rest.data() + q - list.data()));
            } else {
                list = list.substr(0, end);
            }
            while (!list.empty()) {
                size_t p = list.find_first_of(", ");
                std::string_view a = list.substr(0, p);
                if (!a.empty() && a != "-") add_client(a);
                if (p == std::string_view::npos) break;
                list.remove_prefix(p + 1);
            }
            break;
        }
        f = c.next();
    }
    if (!src.empty()) {
        doc.set_string("source.address", src);
        if (ip::is_ip(src)) {
            doc.set_string("source.ip", src);
            doc.push_string("related.ip", src, true);
        }
    }
    if (dst_ip) doc.push_string("related.ip", dst_host, true);
    return {};
}

}  // namespace sds::formats
