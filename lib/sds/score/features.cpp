#include "sds/score/features.hpp"

#include <fmt/format.h>

#include <cstring>

#include "sds/core/hash.hpp"
#include "sds/json/escape.hpp"
#include "sds/json/path.hpp"

namespace sds::score {

void fields::complete() {
    std::string prefix = ip;
    if (prefix.size() > 3 && prefix.compare(prefix.size() - 3, 3, ".ip") == 0) prefix.resize(prefix.size() - 3);
    else prefix.clear();
    std::string base = prefix.empty() ? std::string() : prefix + ".";
    if (asn.empty()) asn = base + "as.number";
    if (country.empty()) country = base + "geo.country_iso_code";
    if (location.empty()) location = base + "geo.location";
}

uint64_t checksum(const void* data, size_t n) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    uint64_t h[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int l = 0; l < 4; ++l) {
            uint64_t w;
            std::memcpy(&w, p + i + 8 * l, 8);
            h[l] = (h[l] ^ w) * 0x9e3779b97f4a7c15ULL;
            h[l] ^= h[l] >> 29;
        }
    }
    uint64_t r = mix64(h[0]) ^ mix64(h[1] + 1) ^ mix64(h[2] + 2) ^ mix64(h[3] + 3) ^ n;
    for (; i < n; ++i) r = (r ^ p[i]) * 0x100000001b3ULL;
    return mix64(r);
}

uint64_t entity_hash(std::string_view entity) noexcept {
    uint64_t h = hash::stable64(entity, 0x5c07e);
    return h == 0 ? 1 : h;
}

uint16_t pack_country(std::string_view cc) noexcept {
    if (cc.size() != 2) return 0;
    auto up = [](char c) -> int { return c >= 'a' && c <= 'z' ? c - 32 : c; };
    int a = up(cc[0]), b = up(cc[1]);
    if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return 0;
    return static_cast<uint16_t>(a << 8 | b);
}

std::string unpack_country(uint16_t cc) { return {char(cc >> 8), char(cc & 0xff)}; }

bool looks_like_address(std::string_view s) noexcept {
    if (s.empty()) return false;
    size_t end = s.find('%');
    std::string_view core = s.substr(0, end);
    bool sep = false;
    for (char c : core) {
        if (c == '.' || c == ':') sep = true;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    }
    return sep;
}

// Dotted quads with zero-padded parts ("253.252.51.07", as some anonymised data sets write
// them), read as decimal.
static std::optional<ip::address> parse_zero_padded_v4(std::string_view s) {
    uint32_t v = 0;
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t digits = 0;
        uint32_t x = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) x = x * 10 + uint32_t(s[i++] - '0'), ++digits;
        if (digits == 0 || digits > 3 || x > 255) return std::nullopt;
        v = v << 8 | x;
        if (++parts < 4) {
            if (i >= s.size() || s[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != s.size()) return std::nullopt;
    return ip::parse(fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255));
}

field_path::field_path(std::string path) : path_(std::move(path)) {
    for (size_t i = 0; i < path_.size(); ++i)
        if (path_[i] == '.') dots_.push_back(static_cast<uint32_t>(i));
}

std::optional<simdjson::dom::element> field_path::find(simdjson::dom::element root) const noexcept {
    if (dots_.size() > max_dots) return json::find(root, path_);
    simdjson::dom::element v;
    if (find_from(root, 0, 0, v)) return v;
    return std::nullopt;
}

namespace {
// Names are short: a loop the compiler keeps inline beats a call to memcmp.
inline bool same_bytes(const char* a, const char* b, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}
}  // namespace

std::optional<simdjson::dom::element> field_path::find(simdjson::dom::element root,
                                                        std::span<const member_ref> members) const noexcept {
    if (dots_.size() > max_dots) return json::find(root, path_);
    simdjson::dom::element v;
    if (find_among(members, 0, 0, v)) return v;
    return std::nullopt;
}

// The rest of the path from `start` (its dots are dots_[first_dot...]) in the object `e`.
bool field_path::find_from(simdjson::dom::element e, size_t start, size_t first_dot,
                           simdjson::dom::element& out) const noexcept {
    simdjson::dom::object obj;
    if (e.get_object().get(obj)) return false;
    return find_among(obj, start, first_dot, out);
}

// The rest of the path from `start` (its dots are dots_[first_dot...]) among an object's
// members (anything iterable as {key, value} in order).
template <class Members>
bool field_path::find_among(const Members& members, size_t start, size_t first_dot,
                            simdjson::dom::element& out) const noexcept {
    const std::string_view rest = std::string_view(path_).substr(start);
    // The first member named by each split point's head, in the order of the split points.
    union heads {
        heads() {}  // left unset: only the entries marked in `found` are written and read
        simdjson::dom::element e[max_dots];
    } head;
    uint32_t found = 0;  // bit k: head[k] (for dots_[first_dot + k]) is set
    for (const auto& member : members) {
        std::string_view key = member.key;
        if (key.size() >= rest.size()) {
            // The whole rest as one key outranks every split: the first such member is it.
            if (key.size() == rest.size() && same_bytes(key.data(), rest.data(), key.size())) {
                out = member.value;
                return true;
            }
            continue;
        }
        if (rest[key.size()] != '.' || !same_bytes(key.data(), rest.data(), key.size())) continue;
        size_t k = first_dot;
        while (dots_[k] != start + key.size()) ++k;  // the dot ending the key (there is one)
        if (!(found >> (k - first_dot) & 1)) {
            found |= 1u << (k - first_dot);
            head.e[k - first_dot] = member.value;
        }
    }
    for (size_t k = first_dot; found; ++k) {
        if (!(found >> (k - first_dot) & 1)) continue;
        found &= ~(1u << (k - first_dot));
        if (find_from(head.e[k - first_dot], dots_[k] + 1, k + 1, out)) return true;
    }
    return false;
}

namespace {

std::optional<std::string_view> string_of(std::optional<simdjson::dom::element> e) {
    std::string_view s;
    if (!e || e->get_string().get(s)) return std::nullopt;
    return s;
}

// A scalar as text, as json::find_scalar_text gives it.
std::optional<std::string_view> scalar_text(simdjson::dom::element e, std::string& scratch) {
    switch (e.type()) {
        case simdjson::dom::element_type::STRING: return std::string_view(e);
        case simdjson::dom::element_type::INT64:
            scratch.clear();
            json::append_int(scratch, int64_t(e));
            return std::string_view(scratch);
        case simdjson::dom::element_type::UINT64:
            scratch.clear();
            json::append_uint(scratch, uint64_t(e));
            return std::string_view(scratch);
        case simdjson::dom::element_type::DOUBLE:
            scratch.clear();
            json::append_double(scratch, double(e));
            return std::string_view(scratch);
        case simdjson::dom::element_type::BOOL: return bool(e) ? std::string_view("true") : std::string_view("false");
        default: return std::nullopt;
    }
}

}  // namespace

extractor::extractor(const fields& f)
    : ip_(f.ip), asn_(f.asn), country_(f.country), location_(f.location), timestamp_(f.timestamp),
      time_always_(f.time_always) {
    for (const auto& name : f.entity) entity_.emplace_back(name);
}

extract_result extract(simdjson::dom::element doc, const fields& f, pair& out, std::string& scratch) {
    return extractor(f).extract(doc, out, scratch);
}

extract_result extractor::extract(simdjson::dom::element doc, pair& out, std::string& scratch) const {
    out = pair{};
    root_.clear();
    simdjson::dom::object obj;
    root_object_ = !doc.get_object().get(obj);
    if (root_object_)
        for (auto m : obj) root_.push_back(member_ref{m.key, m.value});
    for (const auto& path : entity_) {
        auto e = path.find(doc, root_);
        if (!e) continue;
        auto v = scalar_text(*e, scratch);
        if (v && !v->empty()) {
            out.entity = *v;
            break;
        }
    }
    if (out.entity.empty()) return extract_result::no_entity;
    auto ipv = string_of(ip_.find(doc, root_));
    if (!ipv || ipv->empty()) return extract_result::no_address;
    if (!ip::parse_plain_v4(*ipv, out.addr)) {
        auto a = ip::parse(*ipv);
        if (!a) a = parse_zero_padded_v4(*ipv);
        if (!a) return looks_like_address(*ipv) ? extract_result::malformed_address : extract_result::no_address;
        out.addr = *a;
    }
    out.entity_key = entity_hash(out.entity);
    if (auto e = asn_.find(doc, root_)) {
        uint64_t n = 0;
        bool ok = false;
        if (e->is_uint64()) n = uint64_t(*e), ok = true;
        else if (e->is_int64() && int64_t(*e) >= 0) n = uint64_t(int64_t(*e)), ok = true;
        else if (e->is_string()) {
            std::string_view s = *e;
            if (s.size() > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) s.remove_prefix(2);
            ok = !s.empty() && s.size() <= 10;
            for (char c : s) {
                if (c < '0' || c > '9') ok = false;
                else n = n * 10 + uint64_t(c - '0');
            }
        }
        if (ok && n > 0 && n <= 0xffffffffULL) out.asn = static_cast<uint32_t>(n);
    }
    if (auto cc = string_of(country_.find(doc, root_))) {
        if (uint16_t p = pack_country(*cc)) out.country = p;
    }
    if (auto loc = location_.find(doc, root_); loc && loc->is_object()) {
        auto lat = (*loc)["lat"], lon = (*loc)["lon"];
        double la = 0, lo = 0;
        if (!lat.error() && !lon.error() && lat.is_number() && lon.is_number()) {
            la = lat.is_double() ? double(lat) : lat.is_int64() ? double(int64_t(lat)) : double(uint64_t(lat));
            lo = lon.is_double() ? double(lon) : lon.is_int64() ? double(int64_t(lon)) : double(uint64_t(lon));
            out.location = std::array<double, 2>{la, lo};
        }
    }
    if (time_always_ || out.location)
        if (auto ts = string_of(timestamp_.find(doc, root_))) out.ts = time::parse_iso8601(*ts);
    return extract_result::ok;
}

namespace {
uint64_t addr_hash(const ip::address& a, int bytes, uint64_t seed) noexcept {
    uint64_t h = seed;
    for (int i = 0; i < bytes; ++i) h = mix64(h ^ (uint64_t(a.bytes[i]) << 8 | uint64_t(i)));
    return h;
}
}  // namespace

feature_set features_of(const ip::address& a, std::optional<uint32_t> asn, std::optional<uint16_t> cc) noexcept {
    feature_set f;
    if (a.v4) {
        uint32_t v = a.v4_value();
        f.rows[f.n++] = off_8 + (v >> 24);
        f.rows[f.n++] = off_16 + (v >> 16);
        f.rows[f.n++] = off_24 + static_cast<uint32_t>(mix64(v >> 8) & (rows_24 - 1));
    } else {
        f.rows[f.n++] = off_8 + static_cast<uint32_t>(addr_hash(a, 3, 61) & (rows_8 - 1));
        f.rows[f.n++] = off_16 + static_cast<uint32_t>(addr_hash(a, 4, 62) & (rows_16 - 1));
        f.rows[f.n++] = off_24 + static_cast<uint32_t>(addr_hash(a, 6, 63) & (rows_24 - 1));
    }
    if (asn) f.rows[f.n++] = off_asn + static_cast<uint32_t>(mix64(*asn + 0x100000000ULL) & (rows_asn - 1));
    if (cc) f.rows[f.n++] = off_cc + static_cast<uint32_t>(mix64(*cc + 0x200000000ULL) & (rows_cc - 1));
    return f;
}

seen_values values_of(const pair& p) noexcept {
    seen_values s;
    s.v[0] = 1;
    s.has[0] = true;
    if (p.addr.v4) {
        uint32_t v = p.addr.v4_value();
        s.v[1] = uint64_t(v) | (1ULL << 40);
        s.v[2] = uint64_t(v >> 8) | (2ULL << 40);
        s.v[3] = uint64_t(v >> 16) | (3ULL << 40);
    } else {
        s.v[1] = addr_hash(p.addr, 16, 71);
        s.v[2] = addr_hash(p.addr, 6, 72);
        s.v[3] = addr_hash(p.addr, 4, 73);
    }
    s.has[1] = s.has[2] = s.has[3] = true;
    if (p.asn) s.v[4] = *p.asn, s.has[4] = true;
    if (p.country) s.v[5] = *p.country, s.has[5] = true;
    return s;
}

}  // namespace sds::score
