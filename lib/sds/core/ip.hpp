#pragma once
// IP addresses: parsing and classification shared by normalize, enrich, score and scan.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sds::ip {

struct address {
    std::array<uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
    bool v4 = false;
    uint32_t v4_value() const noexcept {
        return (uint32_t(bytes[12]) << 24) | (uint32_t(bytes[13]) << 16) | (uint32_t(bytes[14]) << 8) | bytes[15];
    }
    bool operator==(const address&) const = default;
};

// Parses dotted IPv4 or IPv6 text (with an optional %zone, and IPv4-mapped forms).
std::optional<address> parse(std::string_view s);
// A plain dotted quad as inet_pton reads it (four decimal parts of 0-255 without leading
// zeros, nothing else), parsed in place into the address parse() gives it; false for any
// other text (leave that to parse()). The hot path of tools that read addresses per record.
bool parse_plain_v4(std::string_view s, address& a) noexcept;
bool is_ip(std::string_view s);
// Canonical text (IPv4 dotted; IPv6 RFC 5952 compressed lower-case).
std::string to_string(const address& a);

// CIDR "10.0.0.0/8" or "2001:db8::/32" → network (host bits cleared) and prefix length
// (for IPv4, 0..32).
struct network {
    address base;
    int prefix = 0;
};
std::optional<network> parse_cidr(std::string_view s);
bool contains(const network& n, const address& a);

// Private, loopback, link-local, multicast, documentation, CGNAT, unspecified, reserved…:
// addresses with no public geography.
bool is_private_or_reserved(const address& a);

}  // namespace sds::ip
