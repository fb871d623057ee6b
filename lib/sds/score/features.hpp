#pragma once
// What sds-score reads from a record and how an address becomes model rows: the entity, the
// address with its prefixes (/8, /16, /24 for IPv4; /32, /48 and the first 24 bits for IPv6),
// and the ASN and country when the record carries them (sds-enrich's *.as.number and
// *.geo.country_iso_code). Shared by training, scoring and evaluation so they agree exactly.
#include <simdjson.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sds/core/ip.hpp"
#include "sds/core/time.hpp"

namespace sds::score {

// Which record fields make the pair.
struct fields {
    std::vector<std::string> entity;  // the first present, non-empty one is the entity
    std::string ip;
    std::string asn;      // default: <ip prefix>.as.number
    std::string country;  // default: <ip prefix>.geo.country_iso_code
    std::string location; // default: <ip prefix>.geo.location ({"lat","lon"})
    std::string timestamp = "@timestamp";
    // Read the timestamp of every record; when false only of records with a location (the
    // time is used by impossible travel and the --learn history, nothing else).
    bool time_always = true;
    // Fills asn/country/location from the ip field ("source.ip" -> "source.as.number", ...).
    void complete();
};

// One (entity, address) observation.
struct pair {
    std::string_view entity;
    uint64_t entity_key = 0;  // entity_hash(entity)
    ip::address addr;
    std::optional<uint32_t> asn;
    std::optional<uint16_t> country;  // two letters packed, 'D'<<8|'E'
    std::optional<std::array<double, 2>> location;  // lat, lon
    std::optional<time::millis> ts;
};

enum class extract_result { ok, no_entity, no_address, malformed_address };

// A field path looked up as json::find looks it up ("a.b.c": the whole path as one key first,
// then "a" + "b.c", "a.b" + "c", ..., the first member of each name, the first that yields a
// value), found with one walk over each object's members instead of one per candidate name.
struct member_ref {
    std::string_view key;
    simdjson::dom::element value;
};

class field_path {
public:
    field_path() = default;
    explicit field_path(std::string path);
    std::optional<simdjson::dom::element> find(simdjson::dom::element root) const noexcept;
    // The same, given also the root object's members in order (listed once for several paths).
    std::optional<simdjson::dom::element> find(simdjson::dom::element root, std::span<const member_ref> members) const noexcept;
    const std::string& text() const noexcept { return path_; }

private:
    static constexpr size_t max_dots = 15;
    bool find_from(simdjson::dom::element e, size_t start, size_t first_dot, simdjson::dom::element& out) const noexcept;
    template <class Members>
    bool find_among(const Members& members, size_t start, size_t first_dot, simdjson::dom::element& out) const noexcept;
    std::string path_;
    std::vector<uint32_t> dots_;  // positions of the dots in path_
};

// Reads pairs out of records by `fields`, its paths prepared once.
class extractor {
public:
    explicit extractor(const fields& f);
    // `scratch` holds the entity text when it is a number.
    extract_result extract(simdjson::dom::element doc, pair& out, std::string& scratch) const;
    // The top-level members of the record last given to extract() (empty when it was not an
    // object), valid until the next call.
    std::span<const member_ref> root_members() const noexcept { return root_; }
    bool root_is_object() const noexcept { return root_object_; }

private:
    std::vector<field_path> entity_;
    field_path ip_, asn_, country_, location_, timestamp_;
    bool time_always_;
    mutable std::vector<member_ref> root_;  // the record's top-level members, listed once for all paths
    mutable bool root_object_ = false;
};

// Reads the pair out of a record (an extractor made for the one call).
extract_result extract(simdjson::dom::element doc, const fields& f, pair& out, std::string& scratch);

// True when text is meant as an address (only hex digits, dots, colons, a zone) but may not
// parse; CloudTrail's "ec2.amazonaws.com" or "AWS Internal" are not addresses.
bool looks_like_address(std::string_view s) noexcept;

// Entity key: never 0 (0 is the population's key in the history).
uint64_t entity_hash(std::string_view entity) noexcept;
uint16_t pack_country(std::string_view cc) noexcept;  // 0 when not two letters
std::string unpack_country(uint16_t cc);

// Row layout of the address feature table.
inline constexpr uint32_t rows_8 = 256, rows_16 = 65536, rows_24 = 1u << 18, rows_asn = 1u << 16, rows_cc = 1024;
inline constexpr uint32_t off_8 = 0, off_16 = off_8 + rows_8, off_24 = off_16 + rows_16, off_asn = off_24 + rows_24,
                          off_cc = off_asn + rows_asn, feature_rows = off_cc + rows_cc;
inline constexpr int max_features = 5;

struct feature_set {
    std::array<uint32_t, max_features> rows{};
    uint8_t n = 0;
};
// The rows of an address (plus its ASN and country when known).
feature_set features_of(const ip::address& a, std::optional<uint32_t> asn, std::optional<uint16_t> cc) noexcept;

// 64-bit mixing used for checksums and keys (fast, stable).
inline uint64_t mix64(uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// History keys: what an entity (or, with entity key 0, anybody) has been seen with.
enum class seen_kind : uint8_t { entity = 0, address = 1, prefix24 = 2, prefix16 = 3, asn = 4, country = 5 };
inline constexpr int seen_kinds = 6;
inline uint64_t seen_key(uint64_t entity_key, seen_kind kind, uint64_t value) noexcept {
    uint64_t k = mix64(entity_key ^ mix64(value * 8 + static_cast<uint64_t>(kind) + 0x9e3779b97f4a7c15ULL));
    return k == 0 ? 1 : k;
}
// The values of each kind for a pair (0 = not available for that kind).
struct seen_values {
    std::array<uint64_t, seen_kinds> v{};
    std::array<bool, seen_kinds> has{};
};
seen_values values_of(const pair& p) noexcept;

uint64_t checksum(const void* data, size_t n) noexcept;

}  // namespace sds::score
