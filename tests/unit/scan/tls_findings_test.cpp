#include <doctest/doctest.h>

#include <set>

#include "sds/scan/tls.hpp"

using namespace sds;
using namespace sds::scan;

namespace {
std::set<std::string> ids(const std::vector<finding>& f) {
    std::set<std::string> s;
    for (const auto& x : f) s.insert(x.id);
    return s;
}
tls_report healthy(time::millis now) {
    tls_report r;
    r.established = true;
    r.chain_trusted = true;
    r.name_match = true;
    r.accepted = {"1.2", "1.3"};
    cert_facts c;
    c.not_before = now - 86400000LL * 10;
    c.not_after = now + 86400000LL * 90;
    c.public_key_algorithm = "RSA";
    c.public_key_size = 2048;
    c.signature_digest = "sha256";
    r.chain.push_back(c);
    return r;
}
}  // namespace

TEST_CASE("tls findings: a healthy endpoint has none") {
    auto now = time::now();
    CHECK(tls_findings(healthy(now), now, 30).empty());
}

TEST_CASE("tls findings: expiry is judged against now and --warn-days") {
    auto now = time::now();
    auto r = healthy(now);
    CHECK(ids(tls_findings(r, now, 100)) == std::set<std::string>{"tls.certificate_expiring"});
    r.chain[0].not_after = now - 1000;
    CHECK(ids(tls_findings(r, now, 30)) == std::set<std::string>{"tls.certificate_expired"});
}

TEST_CASE("tls findings: weak keys, SHA-1, old protocols, names and trust") {
    auto now = time::now();
    auto r = healthy(now);
    r.chain[0].public_key_size = 1024;
    r.chain[0].signature_digest = "sha1";
    r.accepted = {"1.0", "1.1", "1.2"};
    r.name_match = false;
    r.chain_trusted = false;
    r.chain[0].self_signed = true;
    CHECK(ids(tls_findings(r, now, 30)) ==
          std::set<std::string>{"tls.weak_key", "tls.sha1_signature", "tls.protocol_tls1_0_accepted",
                                "tls.protocol_tls1_1_accepted", "tls.name_mismatch", "tls.untrusted_chain",
                                "tls.self_signed"});
    r = healthy(now);
    r.chain[0].public_key_algorithm = "EC";
    r.chain[0].public_key_size = 256;
    r.name_match.reset();  // no name known: nothing to match
    CHECK(tls_findings(r, now, 30).empty());
}

TEST_CASE("tls findings: no handshake, no findings") {
    tls_report r;
    CHECK(tls_findings(r, time::now(), 30).empty());
}
