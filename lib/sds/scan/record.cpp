#include "sds/scan/record.hpp"

#include <cstring>
#include <string>

#include "sds/core/hash.hpp"
#include "sds/scan/service.hpp"
#include "sds/scan/tls.hpp"

namespace sds::scan {

namespace {

// Banners are kept as text: trailing line ends trimmed; the builder replaces invalid UTF-8.
std::string_view trim_banner(std::string_view b) {
    while (!b.empty() && (b.back() == '\n' || b.back() == '\r' || b.back() == ' ' || b.back() == '\0')) b.remove_suffix(1);
    return b;
}

}  // namespace

void build_port_record(json::doc_builder& b, const probe_result& r, std::string_view domain, time::millis at) {
    b.clear();
    std::string ip = ip::to_string(r.p.addr);
    std::string ts = time::rfc3339(at);
    b.set_string("@timestamp", ts);
    b.set_string("event.kind", "state");
    b.push_string("event.category", "network");
    b.push_string("event.type", "info");
    b.set_string("event.action", std::string("port-") + to_string(r.state));
    b.set_string("event.dataset", "sds.scan");
    b.set_string("event.module", "sds");
    b.set_string("event.id", hash::hex128("sds-scan|" + ip + "|" + std::to_string(r.p.port) + "|" + ts));
    b.set_string("destination.ip", ip);
    b.set_uint("destination.port", r.p.port);
    if (!domain.empty()) b.set_string("destination.domain", domain);
    b.set_string("network.transport", "tcp");
    b.set_string("network.type", r.p.addr.v4 ? "ipv4" : "ipv6");
    b.push_string("related.ip", ip);
    if (!domain.empty()) b.push_string("related.hosts", domain);
    b.set_string("sds.scan.state", to_string(r.state));
    if (r.state == port_state::open) {
        std::string_view banner = trim_banner(r.banner);
        auto g = guess_service(r.p.port, banner);
        if (!g.name.empty()) {
            b.set_string("service.name", g.name);
            b.set_string("sds.scan.service.method", g.method);
        }
        if (!banner.empty()) b.set_string("sds.scan.banner", banner);
    } else if (r.error != 0) {
        b.set_string("sds.scan.reason", r.state == port_state::closed ? "reset" : std::strerror(r.error));
    }
    b.set_double("sds.scan.rtt_ms", static_cast<double>(static_cast<int64_t>(r.rtt_ms * 1000)) / 1000.0);
    b.set_int("sds.scan.attempts", r.attempts);
}

}  // namespace sds::scan

namespace sds::scan {

namespace {

void push_all(json::doc_builder& b, std::string_view path, const std::vector<std::string>& v) {
    for (const auto& s : v) b.push_string(path, s);
}

void add_x509(json::doc_builder& b, const std::string& prefix, const cert_facts& c) {
    auto f = [&](std::string_view leaf) { return prefix + std::string(leaf); };
    b.set_string(f("subject.distinguished_name"), c.subject_dn);
    push_all(b, f("subject.common_name"), c.subject_cn);
    push_all(b, f("subject.organization"), c.subject_o);
    b.set_string(f("issuer.distinguished_name"), c.issuer_dn);
    push_all(b, f("issuer.common_name"), c.issuer_cn);
    push_all(b, f("issuer.organization"), c.issuer_o);
    if (!c.alternative_names.empty()) push_all(b, f("alternative_names"), c.alternative_names);
    else b.set_raw(f("alternative_names"), "[]");
    b.set_string(f("not_before"), time::rfc3339(c.not_before));
    b.set_string(f("not_after"), time::rfc3339(c.not_after));
    b.set_string(f("public_key_algorithm"), c.public_key_algorithm);
    b.set_int(f("public_key_size"), c.public_key_size);
    if (!c.public_key_curve.empty()) b.set_string(f("public_key_curve"), c.public_key_curve);
    b.set_string(f("signature_algorithm"), c.signature_algorithm);
    b.set_string(f("serial_number"), c.serial_number);
    b.set_string(f("version_number"), std::to_string(c.version));
}

}  // namespace

void add_tls_fields(json::doc_builder& b, const tls_report& r, const std::vector<finding>& findings, time::millis now) {
    b.set_bool("tls.established", r.established);
    if (!r.established) {
        b.set_string("sds.scan.tls.error", r.error);
        return;
    }
    b.set_string("tls.version", r.version);
    b.set_string("tls.version_protocol", "tls");
    b.set_string("tls.cipher", r.cipher);
    if (!r.chain.empty()) {
        const cert_facts& c = r.chain.front();
        add_x509(b, "tls.server.x509.", c);
        b.set_string("tls.server.subject", c.subject_dn);
        b.set_string("tls.server.issuer", c.issuer_dn);
        b.set_string("tls.server.not_before", time::rfc3339(c.not_before));
        b.set_string("tls.server.not_after", time::rfc3339(c.not_after));
        b.set_string("tls.server.hash.sha256", c.sha256);
        b.set_string("tls.server.hash.sha1", c.sha1);
        b.set_int("sds.scan.tls.days_to_expiry", (c.not_after - now) / 86400000 - (c.not_after < now ? 1 : 0));
        b.set_bool("sds.scan.tls.self_signed", c.self_signed);
    }
    if (r.versions_probed) {
        if (r.accepted.empty()) b.set_raw("sds.scan.tls.accepted_versions", "[]");
        for (const auto& v : r.accepted) b.push_string("sds.scan.tls.accepted_versions", v);
    }
    b.set_bool("sds.scan.tls.chain_trusted", r.chain_trusted);
    if (!r.chain_trusted) b.set_string("sds.scan.tls.verify_error", r.verify_error);
    if (r.name_match) b.set_bool("sds.scan.tls.name_match", *r.name_match);
    json::doc_builder sub;
    for (const auto& c : r.chain) {
        sub.clear();
        sub.set_string("subject", c.subject_dn);
        sub.set_string("issuer", c.issuer_dn);
        sub.set_string("not_after", time::rfc3339(c.not_after));
        sub.set_string("sha256", c.sha256);
        b.push_raw("sds.scan.tls.chain", sub.str());
    }
    for (const auto& f : findings) {
        sub.clear();
        sub.set_string("id", f.id);
        sub.set_string("severity", f.severity);
        sub.set_string("message", f.message);
        b.push_raw("sds.scan.findings", sub.str());
    }
    if (findings.empty()) b.set_raw("sds.scan.findings", "[]");
}

}  // namespace sds::scan
