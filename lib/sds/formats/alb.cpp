#include "sds/formats/alb.hpp"

#include "sds/core/ip.hpp"
#include "sds/formats/tokenize.hpp"

namespace sds::formats {

namespace {

using text::cursor;
using text::field;

bool is_dash(std::string_view s) { return s == "-"; }

// "2018-07-02T22:23:00.186641Z" or "2018-12-20T02:59:40": cheap prefix check.
bool iso_prefix(std::string_view s) {
    if (s.size() < 19) return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
        if (!text::is_digit(s[i])) return false;
    return s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':';
}

bool alb_type(std::string_view t) {
    return t == "http" || t == "https" || t == "h2" || t == "grpcs" || t == "ws" || t == "wss";
}

std::string_view first_word(std::string_view s, size_t& pos) {
    while (pos < s.size() && s[pos] == ' ') ++pos;
    size_t b = pos;
    while (pos < s.size() && s[pos] != ' ') ++pos;
    return s.substr(b, pos - b);
}

enum class kind { none, alb, nlb, classic, connection };

kind classify(std::string_view line) {
    size_t pos = 0;
    std::string_view a = first_word(line, pos);
    if (alb_type(a)) return iso_prefix(first_word(line, pos)) ? kind::alb : kind::none;
    if (a == "tls") {
        first_word(line, pos);  // version
        return iso_prefix(first_word(line, pos)) ? kind::nlb : kind::none;
    }
    if (!iso_prefix(a)) return kind::none;
    std::string_view b = first_word(line, pos);
    std::string_view c = first_word(line, pos);
    if (ip::is_ip(b) && text::to_int<uint16_t>(c)) return kind::connection;
    if (!b.empty() && c.find(':') != std::string_view::npos) return kind::classic;
    return kind::none;
}

status time_field(std::string_view v, json::doc_builder& doc) {
    auto t = time::parse_iso8601(v);
    if (!t) return reject("elb: invalid time");
    text::set_time(doc, "@timestamp", *t);
    text::set_time(doc, "event.end", *t);
    return {};
}

void set_address(json::doc_builder& doc, std::string_view prefix_address, std::string_view prefix_ip,
                 std::string_view prefix_port, std::string_view hostport, bool port_as_string) {
    auto hp = text::split_host_port(hostport);
    std::string_view host = hp ? hp->host : hostport;
    if (!prefix_address.empty()) doc.set_string(prefix_address, host);
    if (ip::is_ip(host)) doc.set_string(prefix_ip, host);
    else note_error(doc, "elb: address is not an IP");
    if (!hp) return;
    if (port_as_string) doc.set_string(prefix_port, hp->port);
    else if (auto p = text::to_int<uint16_t>(hp->port)) doc.set_int(prefix_port, *p);
    else note_error(doc, "elb: port is not a number");
}

void set_seconds(json::doc_builder& doc, std::string_view path, std::string_view v) {
    if (v == "-1" || is_dash(v)) return;
    if (auto d = text::to_double(v)) doc.set_double(path, *d);
    else note_error(doc, "elb: processing time is not a number");
}

void set_long(json::doc_builder& doc, std::string_view path, std::string_view v) {
    if (is_dash(v)) return;
    if (auto n = text::to_int<int64_t>(v)) doc.set_int(path, *n);
    else note_error(doc, "elb: field is not a number");
}

void set_ssl(json::doc_builder& doc, std::string_view cipher, std::string_view protocol) {
    if (!is_dash(cipher) && !cipher.empty()) {
        doc.set_string("aws.elb.ssl_cipher", cipher);
        doc.set_string("tls.cipher", cipher);
    }
    if (!is_dash(protocol) && !protocol.empty()) {
        doc.set_string("aws.elb.ssl_protocol", protocol);
        text::set_tls_version(doc, protocol);
    }
}

// "GET http://host:80/path HTTP/1.1"
void set_request(json::doc_builder& doc, std::string_view req) {
    size_t sp1 = req.find(' ');
    if (sp1 == std::string_view::npos) return;
    std::string_view method = req.substr(0, sp1);
    std::string_view rest = req.substr(sp1 + 1);
    size_t sp2 = rest.rfind(' ');
    if (sp2 == std::string_view::npos) return;
    std::string_view uri = rest.substr(0, sp2), version = rest.substr(sp2 + 1);
    if (!is_dash(method) && !method.empty()) doc.set_string("http.request.method", method);
    if (version.starts_with("HTTP/") && version.size() > 5) doc.set_string("http.version", version.substr(5));
    if (!is_dash(uri) && !uri.empty()) {
        doc.set_string("url.original", uri);
        text::set_url_parts(doc, uri);
    }
}

void http_common(json::doc_builder& doc, int64_t status) {
    doc.set_string("aws.elb.protocol", "http");
    doc.push_string("event.category", "web");
    if (status >= 0) doc.set_string("event.outcome", status < 400 ? "success" : "failure");
}

// Classic ELB / ALB common part: time elb client backend 3×time status backend_status
// received sent "request" "user_agent" ssl_cipher ssl_protocol. Returns false on a malformed line.
parse_status http_part(cursor& c, json::doc_builder& doc, bool& tcp) {
    auto tm = c.word(), elb = c.word(), client = c.word(), backend = c.word();
    auto t1 = c.word(), t2 = c.word(), t3 = c.word(), st = c.word(), bst = c.word(), rx = c.word(), tx = c.word();
    if (!tx) return reject("elb: truncated line");
    if (auto s = time_field(*tm, doc); !s) return s;
    doc.set_string("aws.elb.name", *elb);
    set_address(doc, "source.address", "source.ip", "source.port", *client, false);
    if (!is_dash(*backend)) set_address(doc, {}, "aws.elb.backend.ip", "aws.elb.backend.port", *backend, true);
    set_seconds(doc, "aws.elb.request_processing_time.sec", *t1);
    set_seconds(doc, "aws.elb.backend_processing_time.sec", *t2);
    set_seconds(doc, "aws.elb.response_processing_time.sec", *t3);
    auto req = c.next(), ua = c.next();
    if (!ua || !req->quoted || !ua->quoted) return reject("elb: malformed request or user agent field");
    tcp = is_dash(*st) && req->value == "- - - ";
    int64_t status = -1;
    if (tcp) {
        set_long(doc, "source.bytes", *rx);
        set_long(doc, "destination.bytes", *tx);
        doc.set_string("aws.elb.protocol", "tcp");
        doc.push_string("event.category", "network");
    } else {
        if (auto n = text::to_int<int64_t>(*st)) status = *n, doc.set_int("http.response.status_code", *n);
        else if (!is_dash(*st)) note_error(doc, "elb: status code is not a number");
        set_long(doc, "aws.elb.backend.http.response.status_code", *bst);
        set_long(doc, "http.request.body.bytes", *rx);
        set_long(doc, "http.response.body.bytes", *tx);
        set_request(doc, req->value);
        doc.set_string("user_agent.original", ua->value);
        http_common(doc, status);
    }
    auto cipher = c.word(), proto = c.word();
    if (proto) set_ssl(doc, *cipher, *proto);
    return {};
}

void opt_string(json::doc_builder& doc, std::string_view path, const std::optional<field>& f) {
    if (f && !is_dash(f->value) && !f->value.empty()) doc.set_string(path, f->value);
}

parse_status parse_alb_line(std::string_view line, json::doc_builder& doc) {
    cursor c(line);
    auto type = c.word();
    doc.set_string("aws.elb.type", *type);
    bool tcp = false;
    if (auto s = http_part(c, doc, tcp); !s) return s;
    auto tg = c.next();
    if (!tg) return {};  // an older, shorter line
    doc.set_string("aws.elb.target_group.arn", tg->value);
    auto trace = c.next();
    if (trace && !is_dash(trace->value)) {
        doc.set_string("aws.elb.trace_id", trace->value);
        doc.set_string("trace.id", trace->value);
    }
    opt_string(doc, "destination.domain", c.next());
    opt_string(doc, "aws.elb.chosen_cert.arn", c.next());
    if (auto prio = c.next(); prio && prio->value != "-1") opt_string(doc, "aws.elb.matched_rule_priority", prio);
    if (auto created = c.next(); created && !is_dash(created->value)) {
        if (time::parse_iso8601(created->value)) doc.set_string("event.start", created->value);
        else note_error(doc, "elb: request_creation_time is not a time");
    }
    if (auto f = c.next(); f && !is_dash(f->value)) text::push_split(doc, "aws.elb.action_executed", f->value, ',');
    opt_string(doc, "aws.elb.redirect_url", c.next());
    opt_string(doc, "aws.elb.error.reason", c.next());
    if (auto f = c.next(); f && !is_dash(f->value)) text::push_split(doc, "aws.elb.target_port", f->value, ' ');
    if (auto f = c.next(); f && !is_dash(f->value)) text::push_split(doc, "aws.elb.target_status_code", f->value, ' ');
    opt_string(doc, "aws.elb.classification", c.next());
    opt_string(doc, "aws.elb.classification_reason", c.next());
    opt_string(doc, "aws.elb.conn_trace_id", c.next());
    // Later fields (transformed host/URI, …) are tolerated and ignored.
    return {};
}

// tls 2.0 time elb listener client:port dest:port connection_time tls_handshake_time received
// sent incoming_tls_alert cert_arn cert_serial cipher protocol named_group domain alpn_fe
// alpn_be alpn_client_preference_list tls_connection_creation_time
parse_status parse_nlb_line(std::string_view line, json::doc_builder& doc) {
    cursor c(line);
    auto type = c.word(), version = c.word(), tm = c.word(), elb = c.word(), listener = c.word(), client = c.word(),
         dest = c.word(), conn = c.word(), hs = c.word(), rx = c.word(), tx = c.word();
    if (!tx) return reject("nlb: truncated line");
    (void)version;
    if (auto s = time_field(*tm, doc); !s) return s;
    doc.set_string("aws.elb.type", *type);
    doc.set_string("aws.elb.protocol", "tcp");
    doc.push_string("event.category", "network");
    doc.set_string("aws.elb.name", *elb);
    doc.set_string("aws.elb.listener", *listener);
    set_address(doc, "source.address", "source.ip", "source.port", *client, false);
    if (!is_dash(*dest)) set_address(doc, {}, "aws.elb.backend.ip", "aws.elb.backend.port", *dest, true);
    auto ms = [&](std::string_view path, std::string_view v) {
        if (is_dash(v)) return;
        if (auto d = text::to_double(v)) doc.set_double(path, *d);
        else note_error(doc, "nlb: time is not a number");
    };
    ms("aws.elb.connection_time.ms", *conn);
    ms("aws.elb.tls_handshake_time.ms", *hs);
    set_long(doc, "source.bytes", *rx);
    set_long(doc, "destination.bytes", *tx);
    auto opt = [&](std::string_view path) {
        auto w = c.word();
        if (w && !is_dash(*w)) doc.set_string(path, *w);
        return w;
    };
    opt("aws.elb.incoming_tls_alert");
    opt("aws.elb.chosen_cert.arn");
    opt("aws.elb.chosen_cert.serial");
    auto cipher = c.word(), proto = c.word();
    if (proto) set_ssl(doc, *cipher, *proto);
    opt("aws.elb.ssl_named_group");
    opt("destination.domain");
    opt("aws.elb.alpn_fe_protocol");
    opt("aws.elb.alpn_be_protocol");
    // The preference list is logged quoted ("h2","http/1.1"), sometimes with escaped quotes.
    if (auto w = c.word(); w && !is_dash(*w)) {
        std::string_view v = *w;
        if (v.starts_with("\\\"")) v.remove_prefix(2);
        else if (v.starts_with('"')) v.remove_prefix(1);
        if (v.ends_with("\\\"")) v.remove_suffix(2);
        else if (v.ends_with('"')) v.remove_suffix(1);
        if (!v.empty()) doc.set_string("aws.elb.alpn_client_preference_list", v);
    }
    if (auto w = c.word(); w && !is_dash(*w)) {
        if (auto t = time::parse_iso8601(*w)) text::set_time(doc, "aws.elb.tls_connection_creation_time", *t);
        else note_error(doc, "nlb: tls_connection_creation_time is not a time");
    }
    return {};
}

// ALB connection log: time client_ip client_port listener_port tls_protocol tls_cipher
// tls_handshake_latency "leaf_client_cert_subject" leaf_client_cert_validity
// leaf_client_cert_serial_number tls_verify_status conn_trace_id
parse_status parse_connection_line(std::string_view line, json::doc_builder& doc) {
    cursor c(line);
    auto tm = c.word(), ip_ = c.word(), port = c.word(), listener = c.word(), proto = c.word(), cipher = c.word(),
         latency = c.word();
    if (!latency) return reject("elb connection log: truncated line");
    if (auto s = time_field(*tm, doc); !s) return s;
    doc.set_string("aws.elb.protocol", "tcp");
    doc.push_string("event.category", "network");
    doc.set_string("client.ip", *ip_);
    if (auto p = text::to_int<uint16_t>(*port)) doc.set_int("client.port", *p);
    doc.set_string("aws.elb.listener", *listener);
    set_ssl(doc, *cipher, *proto);
    if (!is_dash(*latency)) {
        if (auto d = text::to_double(*latency)) doc.set_double("aws.elb.tls_handshake_latency", *d);
        else note_error(doc, "elb connection log: tls_handshake_latency is not a number");
    }
    auto subject = c.next();
    if (!subject) return {};
    if (!subject->value.empty()) doc.set_string("aws.elb.leaf_client_cert_subject", subject->value);
    if (auto validity = c.word(); validity && !is_dash(*validity)) {
        std::string_view v = *validity;
        while (!v.empty()) {
            size_t semi = v.find(';');
            std::string_view kv = v.substr(0, semi);
            size_t eq = kv.find('=');
            if (eq != std::string_view::npos) {
                std::string_view k = kv.substr(0, eq);
                auto t = time::parse_iso8601(kv.substr(eq + 1));
                if (t && k == "NotBefore") text::set_time(doc, "aws.elb.leaf_client_cert_not_before", *t);
                else if (t && k == "NotAfter") text::set_time(doc, "aws.elb.leaf_client_cert_not_after", *t);
            }
            if (semi == std::string_view::npos) break;
            v.remove_prefix(semi + 1);
        }
    }
    if (auto serial = c.word(); serial && !is_dash(*serial)) doc.set_string("aws.elb.leaf_client_cert_serial_number", *serial);
    if (auto verify = c.word(); verify && !is_dash(*verify)) {
        std::string_view v = *verify;
        size_t colon = v.find(':');
        doc.set_string("aws.elb.tls_verify_status", v.substr(0, colon));
        if (colon != std::string_view::npos) doc.set_string("aws.elb.tls_error_code", v.substr(colon + 1));
    }
    if (auto tid = c.word(); tid && !is_dash(*tid)) doc.set_string("aws.elb.conn_trace_id", *tid);
    return {};
}

}  // namespace

bool looks_like_elb(std::string_view line) { return classify(line) != kind::none; }

parse_status parse_elb(std::string_view line, json::doc_builder& doc) {
    kind k = classify(line);
    if (k == kind::none) return reject("elb: not an ELB access or connection log line");
    doc.set_string("event.kind", "event");
    doc.set_string("cloud.provider", "aws");
    switch (k) {
        case kind::alb: return parse_alb_line(line, doc);
        case kind::nlb: return parse_nlb_line(line, doc);
        case kind::connection: return parse_connection_line(line, doc);
        case kind::classic: {
            cursor c(line);
            bool tcp = false;
            return http_part(c, doc, tcp);
        }
        case kind::none: break;
    }
    return reject("elb: not an ELB line");
}

}  // namespace sds::formats
