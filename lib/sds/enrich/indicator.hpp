#pragma once
// Indicator values: recognising what a value is (IPv4/IPv6 address or network, domain, URL,
// md5/sha1/sha256) and bringing it to the one form the store and the records are compared in
// (lower-case domains without a trailing dot, normalised URLs, lower-case hashes). Defanged
// values (example[.]com, hxxp://) are refanged first, as feeds publish them that way.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sds/core/ip.hpp"

namespace sds::enrich {

enum class ind_type : uint8_t { ip, domain, url, md5, sha1, sha256 };

// ECS threat.indicator.type of a stored indicator ("ipv4-addr", "domain-name", "url", "file").
std::string_view ecs_type(ind_type t, bool v4);

struct classified {
    ind_type type = ind_type::domain;
    std::string value;     // normalised text (empty for ip: see net)
    ip::network net;       // for ip (prefix = 32/128 for a single address, IPv4 as 0..32)
};

// Recognises `raw` (trimmed, refanged). nullopt when it is none of the supported kinds.
std::optional<classified> classify(std::string_view raw);
// The same into `out`, reusing its buffer (the loaders' per-entry path); false when not one.
bool classify(std::string_view raw, classified& out);

// Normalisers, also used on record values before lookup. They write into `out` and return
// false when the value cannot be one of that kind.
bool normalize_domain(std::string_view in, std::string& out);
bool normalize_url(std::string_view in, std::string& out);
bool normalize_hash(std::string_view in, std::string& out, ind_type& type);

// ip::parse with a fast path for the common case, canonical dotted IPv4 ("192.0.2.1": four
// numbers 0-255 without leading zeros), which it parses without the C library; anything else
// is ip::parse's to decide, so the answers are the same.
std::optional<ip::address> parse_address(std::string_view s);

// A well-mixed 64-bit hash of an address, for caches indexed by address.
inline uint64_t address_hash(const ip::address& a) {
    uint64_t lo = 0, hi = 0;
    for (int i = 0; i < 8; ++i) {
        lo |= uint64_t(a.bytes[i]) << (8 * i);
        hi |= uint64_t(a.bytes[8 + i]) << (8 * i);
    }
    uint64_t h = (lo * 0x9e3779b97f4a7c15ull) ^ (hi + a.v4) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 31;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

// Removes common defanging: [.] (.) {.} [dot] → ".", hxxp → http, [:] → ":", [://] → "://".
std::string refang(std::string_view in);

}  // namespace sds::enrich
