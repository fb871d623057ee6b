#include "sds/formats/suricata.hpp"

#include <initializer_list>
#include <utility>

#include "sds/core/ip.hpp"
#include "sds/core/time.hpp"
#include "sds/formats/vpcflow.hpp"
#include "sds/json/escape.hpp"

namespace sds::formats {

namespace {

using keys = std::initializer_list<std::string_view>;

bool listed(keys k, std::string_view key) {
    for (auto x : k)
        if (x == key) return true;
    return false;
}

// Fields that move to ECS and leave suricata.eve (as Elastic's pipeline removes them).
keys top_moved{"timestamp", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "community_id", "flow_id"};
keys alert_moved{"action", "severity"};
keys http_moved{"hostname", "url", "http_method", "status", "length", "http_user_agent", "http_refer"};
keys fileinfo_moved{"filename", "size"};
keys flow_moved{"bytes_toserver", "bytes_toclient", "pkts_toserver", "pkts_toclient", "start", "end"};

keys moved_of(std::string_view section) {
    if (section == "alert") return alert_moved;
    if (section == "http") return http_moved;
    if (section == "fileinfo") return fileinfo_moved;
    if (section == "flow") return flow_moved;
    return {};
}

// Writes the object without the keys in `skip` (values cleaned of nulls/empties).
bool append_without(std::string& out, object o, keys skip) {
    const size_t mark = out.size();
    out.push_back('{');
    bool any = false;
    for (auto f : o) {
        if (listed(skip, f.key)) continue;
        size_t before = out.size();
        if (any) out.push_back(',');
        json::append_string(out, f.key);
        out.push_back(':');
        if (append_clean(out, f.value))
            any = true;
        else
            out.resize(before);
    }
    if (!any) {
        out.resize(mark);
        return false;
    }
    out.push_back('}');
    return true;
}

uint8_t proto_number(std::string_view p) {
    if (p == "tcp") return 6;
    if (p == "udp") return 17;
    if (p == "icmp") return 1;
    if (p == "ipv6-icmp" || p == "icmpv6") return 58;
    if (p == "sctp") return 132;
    return 0;
}

bool get_int(object o, std::string_view key, int64_t& v) {
    element e;
    return val(o, key, e) && as_int(e, v);
}

void copy_int(json::doc_builder& doc, object o, std::string_view key, std::string_view path) {
    int64_t v = 0;
    if (get_int(o, key, v)) doc.set_int(path, v);
}

// "6a:ff:ac" → "6AFFAC"
std::string_view hex_upper(std::string_view s, std::string& scratch) {
    scratch.clear();
    for (char c : s) {
        if (c == ':') continue;
        scratch.push_back(c >= 'a' && c <= 'f' ? char(c - 'a' + 'A') : c);
    }
    return scratch;
}

void dns_question_parts(json::doc_builder& doc, std::string_view name) {
    if (name.empty() || ip::is_ip(name)) return;
    size_t last = name.rfind('.');
    if (last == std::string_view::npos || last + 1 >= name.size()) return;
    doc.set_string("dns.question.top_level_domain", name.substr(last + 1));
    size_t second = last == 0 ? std::string_view::npos : name.rfind('.', last - 1);
    std::string_view registered = second == std::string_view::npos ? name : name.substr(second + 1);
    doc.set_string("dns.question.registered_domain", registered);
    if (second != std::string_view::npos) doc.set_string("dns.question.subdomain", name.substr(0, second));
}

void map_dns(json::doc_builder& doc, object dns, json_scratch& s) {
    std::string_view type = str(dns, "type");
    set_nonempty(doc, "dns.type", type);
    element id;
    if (val(dns, "id", id)) set_nonempty(doc, "dns.id", scalar_text(id, s.a));
    set_nonempty(doc, "dns.response_code", str(dns, "rcode"));
    std::string_view rrname = str(dns, "rrname");
    std::string_view rrtype = str(dns, "rrtype");
    set_nonempty(doc, "dns.question.name", rrname);
    if (type == "query") set_nonempty(doc, "dns.question.type", rrtype);
    dns_question_parts(doc, rrname);
    auto answer = [&](object a) {
        std::string_view rdata = str(a, "rdata");
        s.b.clear();
        s.b.push_back('{');
        bool any = false;
        auto field = [&](std::string_view k, std::string_view v) {
            if (v.empty()) return;
            if (any) s.b.push_back(',');
            json::append_string(s.b, k);
            s.b.push_back(':');
            json::append_string(s.b, v);
            any = true;
        };
        field("data", rdata);
        field("name", str(a, "rrname"));
        field("type", str(a, "rrtype"));
        int64_t ttl = 0;
        if (get_int(a, "ttl", ttl)) {
            if (any) s.b.push_back(',');
            s.b.append("\"ttl\":");
            json::append_int(s.b, ttl);
            any = true;
        }
        s.b.push_back('}');
        if (any) doc.push_raw("dns.answers", s.b);
        if (ip::is_ip(rdata)) {
            doc.push_string("dns.resolved_ip", rdata, true);
            doc.push_string("related.ip", rdata, true);
        }
    };
    if (type == "answer" && !str(dns, "rdata").empty()) answer(dns);
    element answers;
    if (val(dns, "answers", answers) && answers.is_array()) {
        for (element a : simdjson::dom::array(answers)) {
            object ao;
            if (!a.get_object().get(ao)) answer(ao);
        }
    }
}

// "CN=a, OU=b, O=c, C=US" → <prefix>common_name: ["a"], organizational_unit: ["b"], …
void distinguished_name(json::doc_builder& doc, std::string_view prefix, std::string_view dn, std::string& path) {
    while (!dn.empty()) {
        size_t cut = dn.find(", ");
        std::string_view part = dn.substr(0, cut);
        dn = cut == std::string_view::npos ? std::string_view{} : dn.substr(cut + 2);
        size_t eq = part.find('=');
        if (eq == std::string_view::npos || eq + 1 >= part.size()) continue;
        std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
        std::string_view field = key == "CN"   ? "common_name"
                                 : key == "C"  ? "country"
                                 : key == "O"  ? "organization"
                                 : key == "OU" ? "organizational_unit"
                                 : key == "ST" ? "state_or_province"
                                 : key == "L"  ? "locality"
                                               : std::string_view{};
        if (field.empty()) continue;
        path.assign(prefix);
        path.append(field);
        doc.push_string(path, value);
    }
}

void map_tls(json::doc_builder& doc, object tls, json_scratch& s) {
    std::string_view sni = str(tls, "sni");
    if (sni.ends_with('.')) sni.remove_suffix(1);
    if (!sni.empty()) {
        doc.set_string("tls.client.server_name", sni);
        doc.set_string("destination.domain", sni);
        doc.push_string("related.hosts", sni, true);
    }
    std::string_view issuer = str(tls, "issuerdn");
    std::string_view subject = str(tls, "subject");
    set_nonempty(doc, "tls.server.issuer", issuer);
    set_nonempty(doc, "tls.server.subject", subject);
    distinguished_name(doc, "tls.server.x509.issuer.", issuer, s.b);
    distinguished_name(doc, "tls.server.x509.subject.", subject, s.b);
    std::string_view nb = str(tls, "notbefore"), na = str(tls, "notafter");
    if (!nb.empty() && set_time(doc, "tls.server.not_before", nb, s.a)) doc.set_string("tls.server.x509.not_before", s.a);
    if (!na.empty() && set_time(doc, "tls.server.not_after", na, s.a)) doc.set_string("tls.server.x509.not_after", s.a);
    std::string_view fp = str(tls, "fingerprint");
    if (!fp.empty()) {
        hex_upper(fp, s.a);
        doc.set_string("tls.server.hash.sha1", s.a);
        doc.push_string("related.hash", s.a, true);
    }
    std::string_view serial = str(tls, "serial");
    if (!serial.empty()) doc.set_string("tls.server.x509.serial_number", hex_upper(serial, s.a));
    std::string_view version = str(tls, "version");
    size_t sp = version.find(' ');
    if (sp != std::string_view::npos && sp > 0) {
        doc.set_string("tls.version_protocol", lower(version.substr(0, sp), s.a));
        doc.set_string("tls.version", version.substr(sp + 1));
    }
    object ja;
    for (std::string_view k : {"ja3", "ja3s"}) {
        if (!obj(tls, k, ja)) continue;
        std::string_view h = str(ja, "hash");
        if (h.empty()) continue;
        doc.set_string(k == "ja3" ? "tls.client.ja3" : "tls.server.ja3s", h);
        doc.push_string("related.hash", h, true);
    }
    element resumed;
    bool b = false;
    if (val(tls, "session_resumed", resumed) && !resumed.get_bool().get(b)) doc.set_bool("tls.resumed", b);
}

void map_http(json::doc_builder& doc, object http) {
    set_nonempty(doc, "http.request.method", str(http, "http_method"));
    int64_t v = 0;
    if (get_int(http, "status", v)) {
        doc.set_int("http.response.status_code", v);
        doc.set_string("event.outcome", v < 400 ? "success" : "failure");
    }
    if (get_int(http, "length", v)) doc.set_int("http.response.body.bytes", v);
    std::string_view host = str(http, "hostname");
    if (!host.empty()) {
        doc.set_string("url.domain", host);
        doc.set_string("destination.domain", host);
        doc.push_string("related.hosts", host, true);
    }
    std::string_view url = str(http, "url");
    if (!url.empty()) {
        doc.set_string("url.original", url);
        size_t q = url.find('?');
        doc.set_string("url.path", url.substr(0, q));
        if (q != std::string_view::npos && q + 1 < url.size()) doc.set_string("url.query", url.substr(q + 1));
    }
    set_nonempty(doc, "user_agent.original", str(http, "http_user_agent"));
    set_nonempty(doc, "http.request.referrer", str(http, "http_refer"));
}

}  // namespace

parse_status parse_suricata(object rec, json::doc_builder& doc, json_scratch& s) {
    std::string_view ts = str(rec, "timestamp");
    if (ts.empty()) return reject("suricata: no timestamp");
    if (!set_time(doc, "@timestamp", ts, s.a)) return reject("suricata: invalid timestamp");
    const std::string_view type = str(rec, "event_type");
    if (type.empty()) return reject("suricata: no event_type");

    // suricata.eve: the record less what moves to ECS.
    s.c.clear();
    s.c.push_back('{');
    bool any = false;
    for (auto f : rec) {
        if (listed(top_moved, f.key) || f.key == "@source") continue;
        size_t before = s.c.size();
        if (any) s.c.push_back(',');
        json::append_string(s.c, f.key);
        s.c.push_back(':');
        object section;
        bool wrote = (f.value.get_object().get(section) == simdjson::SUCCESS) ? append_without(s.c, section, moved_of(f.key))
                                                                              : append_clean(s.c, f.value);
        if (wrote)
            any = true;
        else
            s.c.resize(before);
    }
    element flow_id;
    if (val(rec, "flow_id", flow_id)) {
        if (any) s.c.push_back(',');
        s.c.append("\"flow_id\":");
        json::append_string(s.c, scalar_text(flow_id, s.a));
        any = true;
    }
    s.c.push_back('}');
    if (any) doc.set_raw("suricata.eve", s.c);

    // Endpoints and network.
    std::string_view src = str(rec, "src_ip"), dst = str(rec, "dest_ip");
    if (!src.empty() && !set_address(doc, "source", src)) note_error(doc, "suricata: src_ip is not an IP address");
    if (!dst.empty() && !set_address(doc, "destination", dst)) note_error(doc, "suricata: dest_ip is not an IP address");
    for (auto [key, path] : {std::pair<std::string_view, std::string_view>{"src_port", "source.port"},
                             {"dest_port", "destination.port"}}) {
        element e;
        int64_t port = 0;
        if (!val(rec, key, e)) continue;
        if (as_int(e, port) && port >= 0 && port <= 65535)
            doc.set_int(path, port);
        else
            note_error(doc, key == "src_port" ? "suricata: src_port is not a port number" : "suricata: dest_port is not a port number");
    }
    std::string_view proto = lower(str(rec, "proto"), s.b);
    if (!proto.empty()) doc.set_string("network.transport", proto);
    std::string_view app = str(rec, "app_proto");
    if (!app.empty() && app != "failed")
        doc.set_string("network.protocol", app);
    else if (type == "http" || type == "dns" || type == "tls" || type == "ssh" || type == "smtp" || type == "ftp")
        doc.set_string("network.protocol", type);
    std::string_view cid = str(rec, "community_id");
    if (!cid.empty()) {
        doc.set_string("network.community_id", cid);
    } else if (!src.empty() && !dst.empty()) {
        int64_t sport = 0, dport = 0;
        get_int(rec, "src_port", sport);
        get_int(rec, "dest_port", dport);
        object icmp_rec = rec;
        int64_t icmp_type = 0, icmp_code = 0;
        uint8_t pn = proto_number(proto);
        if (pn == 1 || pn == 58) {
            get_int(icmp_rec, "icmp_type", icmp_type);
            get_int(icmp_rec, "icmp_code", icmp_code);
            sport = icmp_type;
            dport = icmp_code;
        }
        if (pn != 0) {
            std::string_view id = community_id(src, dst, pn, uint16_t(sport), uint16_t(dport));
            set_nonempty(doc, "network.community_id", id);
        }
    }

    // Categorisation.
    const bool alert = type == "alert";
    const bool stats = type == "stats";
    doc.set_string("event.kind", alert ? "alert" : stats ? "metric" : "event");
    doc.push_string("event.category", "network");
    if (alert) doc.push_string("event.category", "intrusion_detection");
    if (type == "http") {
        doc.push_string("event.category", "web");
        doc.push_string("event.type", "access");
        doc.push_string("event.type", "protocol");
    } else if (type == "dns" || type == "tls" || type == "ssh" || type == "smb" || type == "ftp" || type == "smtp" ||
               type == "krb5" || type == "dhcp" || type == "rdp" || type == "sip" || type == "snmp") {
        doc.push_string("event.type", "protocol");
    }
    doc.set_string("observer.product", "Suricata");
    doc.set_string("observer.vendor", "OISF");
    doc.set_string("observer.type", "ids");

    object sec;
    if (obj(rec, "alert", sec)) {
        std::string_view action = str(sec, "action");
        if (alert) doc.push_string("event.type", action == "blocked" ? "denied" : "allowed");
        copy_int(doc, sec, "severity", "event.severity");
        std::string_view signature = str(sec, "signature");
        set_nonempty(doc, "message", str(sec, "category"));
        set_nonempty(doc, "rule.name", signature);
        set_nonempty(doc, "rule.category", str(sec, "category"));
        element sid;
        if (val(sec, "signature_id", sid)) set_nonempty(doc, "rule.id", scalar_text(sid, s.a));
    }
    if (obj(rec, "flow", sec)) {
        int64_t bts = 0, btc = 0, pts = 0, ptc = 0;
        bool hb = get_int(sec, "bytes_toserver", bts) | get_int(sec, "bytes_toclient", btc);
        bool hp = get_int(sec, "pkts_toserver", pts) | get_int(sec, "pkts_toclient", ptc);
        if (hb) {
            doc.set_int("source.bytes", bts);
            doc.set_int("destination.bytes", btc);
            int64_t sum = 0;
            if (!__builtin_add_overflow(bts, btc, &sum)) doc.set_int("network.bytes", sum);
        }
        if (hp) {
            doc.set_int("source.packets", pts);
            doc.set_int("destination.packets", ptc);
            int64_t sum = 0;
            if (!__builtin_add_overflow(pts, ptc, &sum)) doc.set_int("network.packets", sum);
        }
        std::string_view start = str(sec, "start"), end = str(sec, "end");
        auto ts0 = time::parse_iso8601(start);
        auto ts1 = time::parse_iso8601(end);
        if (ts0) {
            s.a.clear();
            time::append_rfc3339(s.a, *ts0);
            doc.set_string("event.start", s.a);
        }
        if (ts1) {
            s.a.clear();
            time::append_rfc3339(s.a, *ts1);
            doc.set_string("event.end", s.a);
        }
        int64_t span = 0, ns = 0;
        if (ts0 && ts1 && !__builtin_sub_overflow(*ts1, *ts0, &span) && !__builtin_mul_overflow(span, int64_t(1000000), &ns))
            doc.set_int("event.duration", ns);
        if (type == "flow") {
            doc.push_string("event.type", "connection");
            std::string_view state = str(sec, "state");
            doc.push_string("event.type", state == "closed" ? "end" : "start");
        }
    }
    if (obj(rec, "http", sec)) map_http(doc, sec);
    if (obj(rec, "fileinfo", sec)) {
        set_nonempty(doc, "file.path", str(sec, "filename"));
        copy_int(doc, sec, "size", "file.size");
        set_nonempty(doc, "file.hash.md5", str(sec, "md5"));
        set_nonempty(doc, "file.hash.sha1", str(sec, "sha1"));
        set_nonempty(doc, "file.hash.sha256", str(sec, "sha256"));
    }
    if (obj(rec, "dns", sec)) map_dns(doc, sec, s);
    if (obj(rec, "tls", sec)) map_tls(doc, sec, s);
    return {};
}

}  // namespace sds::formats
