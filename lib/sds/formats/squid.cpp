#include "sds/formats/squid.hpp"

#include "sds/core/ip.hpp"
#include "sds/formats/tokenize.hpp"

namespace sds::formats {

namespace {

bool is_dash(std::string_view s) { return s == "-" || s.empty(); }

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!text::is_digit(c)) return false;
    return true;
}

// "1157689312.049" → ms since the epoch.
std::optional<time::millis> squid_time(std::string_view s) {
    size_t dot = s.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string_view sec = s.substr(0, dot), frac = s.substr(dot + 1);
    if (!all_digits(sec) || !all_digits(frac) || sec.size() > 11 || frac.size() > 9) return std::nullopt;
    auto secs = text::to_int<int64_t>(sec);
    // Squid writes exactly three fraction digits (milliseconds); scale other widths.
    int64_t ms = *text::to_int<int64_t>(frac);
    for (size_t n = frac.size(); n < 3; ++n) ms *= 10;
    for (size_t n = frac.size(); n > 3; --n) ms /= 10;
    return *secs * 1000 + ms;
}

// "code/status" or "hierarchy/peer".
bool split_slash(std::string_view s, std::string_view& a, std::string_view& b) {
    size_t p = s.find('/');
    if (p == std::string_view::npos || p == 0) return false;
    a = s.substr(0, p);
    b = s.substr(p + 1);
    return true;
}

void set_long(json::doc_builder& doc, std::string_view path, std::string_view v) {
    if (is_dash(v)) return;
    if (auto n = text::to_int<int64_t>(v)) doc.set_int(path, *n);
    else note_error(doc, "squid: numeric field is not a number");
}

}  // namespace

bool looks_like_squid(std::string_view line) {
    text::cursor c(line);
    auto t = c.word(), elapsed = c.word(), client = c.word(), x = c.word();
    if (!x || !squid_time(*t) || !all_digits(*elapsed)) return false;
    std::string_view code = *x, a, b;
    if (all_digits(code)) {  // extended: client port first
        auto y = c.word();
        if (!y) return false;
        code = *y;
    }
    (void)client;
    return split_slash(code, a, b) && all_digits(b) && a.find_first_of("\"[") == std::string_view::npos;
}

parse_status parse_squid(std::string_view line, json::doc_builder& doc) {
    text::cursor c(line);
    auto t = c.word(), elapsed = c.word(), client = c.word(), x = c.word();
    if (!x) return reject("squid: truncated line");
    auto ts = squid_time(*t);
    if (!ts) return reject("squid: invalid time");
    if (!all_digits(*elapsed)) return reject("squid: elapsed time is not a number");
    std::optional<std::string_view> port;
    std::string_view code_status = *x;
    bool extended = all_digits(*x);
    if (extended) {
        port = x;
        auto y = c.word();
        if (!y) return reject("squid: truncated line");
        code_status = *y;
    }
    std::string_view code, status;
    if (!split_slash(code_status, code, status)) return reject("squid: no result code/status");

    // The fixed part of each layout.
    std::optional<std::string_view> bytes, reply_size, request_size, reply_hdr, request_hdr, body, method, url, version,
        user, hier, dport, ctype, err_code, err_detail;
    if (extended) {
        reply_size = c.word(), request_size = c.word(), reply_hdr = c.word(), request_hdr = c.word(), body = c.word();
        method = c.word(), url = c.word(), version = c.word(), user = c.word(), hier = c.word(), dport = c.word();
        ctype = c.word(), err_code = c.word(), err_detail = c.word();
        if (!err_detail) return reject("squid: truncated line");
    } else {
        bytes = c.word(), method = c.word(), url = c.word(), user = c.word(), hier = c.word(), ctype = c.word();
        if (!ctype) return reject("squid: truncated line");
        if (!c.done()) return reject("squid: unexpected fields after the content type");
    }
    std::string_view hierarchy, peer;
    if (!split_slash(*hier, hierarchy, peer)) return reject("squid: no hierarchy/peer");

    doc.set_string("observer.vendor", "Squid");
    doc.set_string("observer.product", "Squid");
    doc.set_string("observer.type", "proxy");
    doc.set_string("event.kind", "event");
    doc.push_string("event.category", "web");
    doc.push_string("event.type", "access");
    text::set_time(doc, "@timestamp", *ts);
    doc.set_int("event.duration", *text::to_int<int64_t>(*elapsed) * 1000000);

    if (!is_dash(*user)) {
        doc.set_string("source.user.name", *user);
        doc.push_string("related.user", *user, true);
    }
    doc.set_string("source.address", *client);
    bool src_ip = ip::is_ip(*client);
    if (src_ip) doc.set_string("source.ip", *client);
    else note_error(doc, "squid: client is not an IP");
    if (port) set_long(doc, "source.port", *port);
    if (bytes) set_long(doc, "destination.bytes", *bytes);
    if (extended) {
        set_long(doc, "destination.bytes", *reply_size);
        set_long(doc, "source.bytes", *request_size);
        set_long(doc, "squid.reply_header_size", *reply_hdr);
        set_long(doc, "squid.request_header_size", *request_hdr);
        set_long(doc, "http.response.body.bytes", *body);
    }
    if (!is_dash(*method)) doc.set_string("http.request.method", *method);
    if (version && !is_dash(*version)) doc.set_string("http.version", *version);
    std::string_view domain;
    if (!is_dash(*url)) {
        doc.set_string("url.original", *url);
        if (*method != "CONNECT") text::set_url_parts(doc, *url, &domain);
    }
    auto st = text::to_int<int>(status);
    if (st) {
        doc.set_int("squid.status_code", *st);
        doc.set_int("http.response.status_code", *st);
        doc.set_string("event.outcome", *st < 400 ? "success" : "failure");
    } else {
        note_error(doc, "squid: status is not a number");
    }
    doc.set_string("squid.result_code", code);
    doc.set_string("squid.peer_status", hierarchy);
    if (!is_dash(*ctype)) doc.set_string("squid.content_type", *ctype);
    if (dport) set_long(doc, "destination.port", *dport);
    if (err_code && !is_dash(*err_code)) doc.set_string("error.code", *err_code);
    if (err_detail && !is_dash(*err_detail)) doc.set_string("squid.error_detail", *err_detail);

    std::string_view host_header, sni, xff;
    if (extended) {
        auto referer = c.next(), ua = c.next(), host = c.next(), fwd = c.next();
        if (!fwd || !referer->quoted || !ua->quoted || !host->quoted || !fwd->quoted)
            return reject("squid: malformed quoted fields");
        if (!is_dash(referer->value)) doc.set_string("http.request.referrer", referer->value);
        if (!is_dash(ua->value)) doc.set_string("user_agent.original", ua->value);
        if (!is_dash(host->value)) host_header = host->value, doc.set_string("squid.host_header", host_header);
        if (!is_dash(fwd->value)) {
            xff = fwd->value;
            if (ip::is_ip(xff)) doc.set_string("network.forwarded_ip", xff);
            else note_error(doc, "squid: x-forwarded-for is not an IP"), xff = {};
        }
        auto next = c.next();
        if (next && next->quoted) {
            if (!is_dash(next->value)) sni = next->value, doc.set_string("tls.client.server_name", sni);
            next = c.next();
        }
        if (next) set_long(doc, "squid.server_time", next->value);
        std::string_view note = c.rest();
        while (!note.empty() && note.front() == ' ') note.remove_prefix(1);
        if (!is_dash(note)) doc.set_string("squid.note", note);
    }

    std::string_view dest = !is_dash(peer) ? peer : domain;
    bool dst_ip = false;
    if (!dest.empty()) {
        doc.set_string("destination.address", dest);
        if ((dst_ip = ip::is_ip(dest))) doc.set_string("destination.ip", dest);
    }
    if (!domain.empty()) doc.push_string("related.hosts", domain, true);
    if (!host_header.empty()) doc.push_string("related.hosts", host_header, true);
    if (!sni.empty()) doc.push_string("related.hosts", sni, true);
    if (src_ip) doc.push_string("related.ip", *client, true);
    if (dst_ip) doc.push_string("related.ip", dest, true);
    if (!xff.empty()) doc.push_string("related.ip", xff, true);
    return {};
}

}  // namespace sds::formats
