#include "sds/enrich/geo.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "sds/enrich/indicator.hpp"
#include "sds/json/escape.hpp"

namespace sds::enrich {

struct mmdb_file::impl {
    MMDB_s db{};
    bool open = false;
    ~impl() {
        if (open) MMDB_close(&db);
    }
};

namespace {

bool contains_ci(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        size_t j = 0;
        while (j < needle.size() && std::tolower(static_cast<unsigned char>(hay[i + j])) ==
                                        std::tolower(static_cast<unsigned char>(needle[j])))
            ++j;
        if (j == needle.size()) return true;
    }
    return false;
}

// Reads a value at a NULL-terminated path of the entry.
bool get(MMDB_entry_s* entry, MMDB_entry_data_s& data, const char* const* path) {
    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS) return false;
    return data.has_data;
}

std::string_view as_string(const MMDB_entry_data_s& d) {
    if (d.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
    return {d.utf8_string, d.data_size};
}

bool as_double(const MMDB_entry_data_s& d, double& v) {
    switch (d.type) {
        case MMDB_DATA_TYPE_DOUBLE: v = d.double_value; return true;
        case MMDB_DATA_TYPE_FLOAT: v = d.float_value; return true;
        case MMDB_DATA_TYPE_UINT16: v = d.uint16; return true;
        case MMDB_DATA_TYPE_UINT32: v = d.uint32; return true;
        case MMDB_DATA_TYPE_INT32: v = d.int32; return true;
        case MMDB_DATA_TYPE_UTF8_STRING: {
            std::string s(d.utf8_string, d.data_size);
            char* end = nullptr;
            v = std::strtod(s.c_str(), &end);
            return end && *end == '\0' && !s.empty();
        }
        default: return false;
    }
}

bool as_uint(const MMDB_entry_data_s& d, uint64_t& v) {
    switch (d.type) {
        case MMDB_DATA_TYPE_UINT16: v = d.uint16; return true;
        case MMDB_DATA_TYPE_UINT32: v = d.uint32; return true;
        case MMDB_DATA_TYPE_UINT64: v = d.uint64; return true;
        case MMDB_DATA_TYPE_INT32: v = d.int32 < 0 ? 0 : uint64_t(d.int32); return d.int32 >= 0;
        case MMDB_DATA_TYPE_UTF8_STRING: {
            std::string_view s(d.utf8_string, d.data_size);
            if (s.size() > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) s.remove_prefix(2);
            auto r = std::from_chars(s.data(), s.data() + s.size(), v);
            return r.ec == std::errc() && r.ptr == s.data() + s.size();
        }
        default: return false;
    }
}

// Writes "key":value members into an object being built.
struct object_writer {
    std::string& out;
    size_t start;
    bool any = false;
    explicit object_writer(std::string& o) : out(o), start(o.size()) { out.push_back('{'); }
    void key(std::string_view k) {
        if (any) out.push_back(',');
        any = true;
        json::append_string(out, k);
        out.push_back(':');
    }
    void str(std::string_view k, std::string_view v) {
        if (v.empty() || !json::valid_utf8(v)) return;
        key(k);
        json::append_string(out, v);
    }
    bool close() {
        if (!any) {
            out.resize(start);
            return false;
        }
        out.push_back('}');
        return true;
    }
};

void write_location(object_writer& w, double lat, double lon) {
    w.key("location");
    w.out.append("{\"lat\":");
    json::append_double(w.out, lat);
    w.out.append(",\"lon\":");
    json::append_double(w.out, lon);
    w.out.push_back('}');
}

bool maxmind_geo(MMDB_entry_s* e, std::string& out) {
    MMDB_entry_data_s d;
    object_writer w(out);
    static const char* const cont_code[] = {"continent", "code", nullptr};
    static const char* const cont_name[] = {"continent", "names", "en", nullptr};
    static const char* const country_iso[] = {"country", "iso_code", nullptr};
    static const char* const country_name[] = {"country", "names", "en", nullptr};
    static const char* const reg_iso[] = {"registered_country", "iso_code", nullptr};
    static const char* const reg_name[] = {"registered_country", "names", "en", nullptr};
    static const char* const sub_iso[] = {"subdivisions", "0", "iso_code", nullptr};
    static const char* const sub_name[] = {"subdivisions", "0", "names", "en", nullptr};
    static const char* const city[] = {"city", "names", "en", nullptr};
    static const char* const postal[] = {"postal", "code", nullptr};
    static const char* const tz[] = {"location", "time_zone", nullptr};
    static const char* const lat[] = {"location", "latitude", nullptr};
    static const char* const lon[] = {"location", "longitude", nullptr};

    if (get(e, d, cont_code)) w.str("continent_code", as_string(d));
    if (get(e, d, cont_name)) w.str("continent_name", as_string(d));
    std::string iso;
    if (get(e, d, country_iso) || get(e, d, reg_iso)) {
        iso = std::string(as_string(d));
        w.str("country_iso_code", iso);
    }
    if (get(e, d, country_name) || get(e, d, reg_name)) w.str("country_name", as_string(d));
    if (get(e, d, sub_iso) && !iso.empty() && !as_string(d).empty())
        w.str("region_iso_code", fmt::format("{}-{}", iso, as_string(d)));
    if (get(e, d, sub_name)) w.str("region_name", as_string(d));
    if (get(e, d, city)) w.str("city_name", as_string(d));
    if (get(e, d, postal)) w.str("postal_code", as_string(d));
    if (get(e, d, tz)) w.str("timezone", as_string(d));
    double la = 0, lo = 0;
    if (get(e, d, lat) && as_double(d, la) && get(e, d, lon) && as_double(d, lo)) write_location(w, la, lo);
    return w.close();
}

bool flat_geo(MMDB_entry_s* e, std::string& out) {
    MMDB_entry_data_s d;
    object_writer w(out);
    static const char* const cont_code[] = {"continent_code", nullptr};
    static const char* const cont_name[] = {"continent_name", nullptr};
    static const char* const cc[] = {"country_code", nullptr};
    static const char* const cn[] = {"country_name", nullptr};
    static const char* const state1[] = {"state1", nullptr};
    static const char* const region[] = {"region", nullptr};
    static const char* const city[] = {"city", nullptr};
    static const char* const postcode[] = {"postcode", nullptr};
    static const char* const tz[] = {"timezone", nullptr};
    static const char* const lat[] = {"latitude", nullptr};
    static const char* const lon[] = {"longitude", nullptr};
    if (get(e, d, cont_code)) w.str("continent_code", as_string(d));
    if (get(e, d, cont_name)) w.str("continent_name", as_string(d));
    if (get(e, d, cc)) w.str("country_iso_code", as_string(d));
    if (get(e, d, cn)) w.str("country_name", as_string(d));
    if (get(e, d, state1) || get(e, d, region)) w.str("region_name", as_string(d));
    if (get(e, d, city)) w.str("city_name", as_string(d));
    if (get(e, d, postcode)) w.str("postal_code", as_string(d));
    if (get(e, d, tz)) w.str("timezone", as_string(d));
    double la = 0, lo = 0;
    if (get(e, d, lat) && as_double(d, la) && get(e, d, lon) && as_double(d, lo)) write_location(w, la, lo);
    return w.close();
}

bool asn_object(MMDB_entry_s* e, std::string& out) {
    MMDB_entry_data_s d;
    static const char* const num[] = {"autonomous_system_number", nullptr};
    static const char* const org[] = {"autonomous_system_organization", nullptr};
    static const char* const num_flat[] = {"asn", nullptr};
    static const char* const org_flat[] = {"as_name", nullptr};
    size_t start = out.size();
    uint64_t n = 0;
    bool have_num = (get(e, d, num) || get(e, d, num_flat)) && as_uint(d, n);
    std::string_view name;
    if (get(e, d, org) || get(e, d, org_flat)) name = as_string(d);
    if (!json::valid_utf8(name)) name = {};
    if (!have_num && name.empty()) return false;
    out.push_back('{');
    if (have_num) {
        out.append("\"number\":");
        json::append_uint(out, n);
    }
    if (!name.empty()) {
        if (have_num) out.push_back(',');
        out.append("\"organization\":{\"name\":");
        json::append_string(out, name);
        out.push_back('}');
    }
    out.push_back('}');
    (void)start;
    return true;
}

}  // namespace

expected<std::unique_ptr<mmdb_file>> mmdb_file::open(const std::string& path, kind k) {
    std::unique_ptr<mmdb_file> f(new mmdb_file());
    f->impl_ = std::make_unique<impl>();
    f->kind_ = k;
    int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &f->impl_->db);
    if (rc != MMDB_SUCCESS) {
        std::string why = rc == MMDB_IO_ERROR ? std::strerror(errno) : MMDB_strerror(rc);
        return make_error(exit_code::usage, fmt::format("cannot open database: {} ({})", path, why));
    }
    f->impl_->open = true;
    const auto& md = f->impl_->db.metadata;
    if (md.database_type) f->type_ = md.database_type;
    // MaxMind's and DB-IP's own databases use the nested GeoIP2 layout; the flat layout of
    // ip-location-db and DB-IP's "lite" CSV conversions names fields directly.
    if (contains_ci(f->type_, "GeoIP2") || contains_ci(f->type_, "GeoLite2") || contains_ci(f->type_, "GeoIP-") ||
        contains_ci(f->type_, "DBIP-"))
        f->layout_ = geo_layout::maxmind;
    else if (contains_ci(f->type_, "ip-location-db") || contains_ci(f->type_, "iplocation") ||
             contains_ci(f->type_, "dbip-city-lite") || contains_ci(f->type_, "geo-whois"))
        f->layout_ = geo_layout::flat;
    else
        f->layout_ = geo_layout::probe;
    return f;
}

mmdb_file::~mmdb_file() = default;

bool mmdb_file::lookup(const ip::address& a, std::string& out) const {
    sockaddr_storage ss{};
    if (a.v4) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        std::memcpy(&s4->sin_addr, a.bytes.data() + 12, 4);
    } else {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    }
    int err = 0;
    auto r = MMDB_lookup_sockaddr(&impl_->db, reinterpret_cast<const sockaddr*>(&ss), &err);
    if (err != MMDB_SUCCESS || !r.found_entry) return false;
    if (kind_ == kind::asn) return asn_object(&r.entry, out);
    switch (layout_) {
        case geo_layout::maxmind: return maxmind_geo(&r.entry, out);
        case geo_layout::flat: return flat_geo(&r.entry, out);
        case geo_layout::probe: {
            MMDB_entry_data_s d;
            static const char* const cc[] = {"country_code", nullptr};
            if (get(&r.entry, d, cc)) return flat_geo(&r.entry, out);
            return maxmind_geo(&r.entry, out);
        }
    }
    return false;
}

geo_enricher::geo_enricher(std::unique_ptr<mmdb_file> geo, std::unique_ptr<mmdb_file> asn, size_t cache_slots)
    : geo_(std::move(geo)), asn_(std::move(asn)), cache_(cache_slots ? cache_slots : 1) {}

geo_enricher::result geo_enricher::lookup(const ip::address& a) {
    ++lookups_;
    auto& s = cache_[address_hash(a) % cache_.size()];
    if (s.used && s.addr == a) {
        ++hits_;
        return {s.geo, s.as};
    }
    s.used = true;
    s.addr = a;
    s.geo.clear();
    s.as.clear();
    if (geo_) geo_->lookup(a, s.geo);
    if (asn_) asn_->lookup(a, s.as);
    return {s.geo, s.as};
}

}  // namespace sds::enrich
