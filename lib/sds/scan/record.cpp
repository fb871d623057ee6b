#include "sds/scan/record.hpp"

#include <cstring>
#include <string>

#include "sds/core/hash.hpp"
#include "sds/scan/service.hpp"

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
