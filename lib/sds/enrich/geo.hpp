#pragma once
// GeoIP and ASN lookups through libmaxminddb, rendered as the ECS `geo` and `as` objects.
// Both MaxMind layouts (GeoIP2/GeoLite2 City, Country, ASN) and the flat DB-IP /
// ip-location-db layout (country_code, city, latitude, ...) are understood; which one a
// database uses is decided from its metadata (database_type), with a per-entry probe for
// databases whose type names neither.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/core/ip.hpp"

namespace sds::enrich {

enum class geo_layout { maxmind, flat, probe };

class mmdb_file {
public:
    enum class kind { geo, asn };
    // Opens `path` (memory-mapped). Errors name the file (exit code usage: a bad --geoip).
    static expected<std::unique_ptr<mmdb_file>> open(const std::string& path, kind k);
    ~mmdb_file();
    mmdb_file(const mmdb_file&) = delete;
    mmdb_file& operator=(const mmdb_file&) = delete;

    // Appends the ECS object (`{"country_iso_code":…}` or `{"number":…,"organization":{…}}`)
    // for `a` to `out`; returns false (and appends nothing) when the address is not in the
    // database or the entry holds none of the fields.
    bool lookup(const ip::address& a, std::string& out) const;

    const std::string& database_type() const noexcept { return type_; }
    geo_layout layout() const noexcept { return layout_; }

private:
    mmdb_file() = default;
    struct impl;
    std::unique_ptr<impl> impl_;
    kind kind_ = kind::geo;
    geo_layout layout_ = geo_layout::probe;
    std::string type_;
};

// Geo + ASN lookups behind a small direct-mapped cache of recent addresses, so the repeated
// addresses of real logs cost one lookup each.
class geo_enricher {
public:
    geo_enricher(std::unique_ptr<mmdb_file> geo, std::unique_ptr<mmdb_file> asn, size_t cache_slots = 8192);

    struct result {
        std::string_view geo;  // empty = none
        std::string_view as;
    };
    // Views stay valid until the next call.
    result lookup(const ip::address& a);

    bool enabled() const noexcept { return geo_ || asn_; }
    uint64_t lookups() const noexcept { return lookups_; }
    uint64_t cache_hits() const noexcept { return hits_; }

private:
    struct slot {
        ip::address addr;
        bool used = false;
        std::string geo, as;
    };
    std::unique_ptr<mmdb_file> geo_, asn_;
    std::vector<slot> cache_;
    uint64_t lookups_ = 0, hits_ = 0;
};

}  // namespace sds::enrich
