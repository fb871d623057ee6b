#pragma once
// TLS inspection with OpenSSL: one full handshake (SNI, security level 0 so weak servers can
// still be described) for the negotiated protocol, cipher and certificate chain, then one
// handshake pinned to each of TLS 1.0/1.1/1.2/1.3 to learn which versions the server accepts.
// The chain is verified against the system store (or --cacert) and the leaf against the name.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/core/ip.hpp"
#include "sds/core/time.hpp"

namespace sds::scan {

struct cert_facts {
    std::string subject_dn, issuer_dn;  // "C=US, O=Example, CN=www.example.com" (RFC 2253 order reversed)
    std::vector<std::string> subject_cn, issuer_cn, subject_o, issuer_o;
    std::vector<std::string> alternative_names;  // DNS names, IP addresses, e-mail addresses
    time::millis not_before = 0, not_after = 0;
    std::string public_key_algorithm;  // RSA, EC, ED25519, DSA…
    int public_key_size = 0;           // bits
    std::string public_key_curve;      // EC group name
    std::string signature_algorithm;   // OpenSSL's long name: sha256WithRSAEncryption
    std::string signature_digest;      // sha1, sha256… (empty when the algorithm has none)
    std::string serial_number;         // upper-case hex, no separators
    std::string sha256, sha1;          // fingerprints of the DER, upper-case hex
    int version = 0;                   // X.509 version (3)
    bool self_signed = false;
};

struct tls_report {
    bool established = false;
    std::string error;                   // why the handshake failed
    std::string version;                 // "1.2", "1.3"
    std::string protocol_name;           // "TLSv1.2"
    std::string cipher;                  // IANA name: TLS_AES_256_GCM_SHA384
    std::vector<std::string> accepted;   // versions the server accepted: "1.0", "1.1", "1.2", "1.3"
    bool versions_probed = false;
    bool chain_trusted = false;
    std::string verify_error;            // OpenSSL's verify message when not trusted
    std::optional<bool> name_match;      // against the SNI name; unset when no name was known
    std::vector<cert_facts> chain;       // as the server sent it, leaf first
};

struct tls_options {
    int timeout_ms = 5000;
    std::string cacert;  // PEM file or hashed directory; empty = system store
    bool probe_versions = true;
};

class tls_inspector {
public:
    static expected<std::unique_ptr<tls_inspector>> create(const tls_options& o);
    ~tls_inspector();
    // Thread-safe. `sni` may be empty (then no SNI is sent and no name is checked).
    tls_report inspect(const ip::address& addr, uint16_t port, const std::string& sni) const;

private:
    struct impl;
    explicit tls_inspector(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

struct finding {
    std::string id;        // tls.certificate_expired, …
    std::string severity;  // low, medium, high
    std::string message;
};

// Findings for one TLS endpoint: expired / not yet valid, expiring within warn_days,
// self-signed, untrusted chain, name mismatch, RSA < 2048 (and small EC), SHA-1/MD5
// signatures, TLS 1.0/1.1 accepted.
std::vector<finding> tls_findings(const tls_report& r, time::millis now, int warn_days);

}  // namespace sds::scan
