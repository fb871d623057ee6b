#include "sds/core/ip.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace sds::ip {

bool parse_plain_v4(std::string_view s, address& a) noexcept {
    if (s.size() < 7 || s.size() > 15) return false;
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
        size_t begin = i;
        uint32_t x = 0;
        while (i < s.size() && i - begin < 3 && s[i] >= '0' && s[i] <= '9') x = x * 10 + uint32_t(s[i++] - '0');
        size_t digits = i - begin;
        if (digits == 0 || x > 255 || (digits > 1 && s[begin] == '0')) return false;
        v = v << 8 | x;
    }
    if (i != s.size()) return false;
    a = address{};
    a.v4 = true;
    a.bytes[10] = a.bytes[11] = 0xff;
    a.bytes[12] = uint8_t(v >> 24);
    a.bytes[13] = uint8_t(v >> 16);
    a.bytes[14] = uint8_t(v >> 8);
    a.bytes[15] = uint8_t(v);
    return true;
}

std::optional<address> parse(std::string_view s) {
    if (s.empty() || s.size() > 63) return std::nullopt;
    char buf[64];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    if (char* pct = std::strchr(buf, '%')) *pct = 0;  // zone id
    address a;
    in_addr v4{};
    if (s.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
        a.v4 = true;
        a.bytes[10] = a.bytes[11] = 0xff;
        std::memcpy(&a.bytes[12], &v4, 4);
        return a;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
    std::memcpy(a.bytes.data(), &v6, 16);
    static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    a.v4 = std::memcmp(a.bytes.data(), mapped, 12) == 0;
    return a;
}

bool is_ip(std::string_view s) { return parse(s).has_value(); }

std::string to_string(const address& a) {
    char buf[INET6_ADDRSTRLEN];
    if (a.v4) {
        inet_ntop(AF_INET, &a.bytes[12], buf, sizeof buf);
    } else {
        inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
    }
    return buf;
}

std::optional<network> parse_cidr(std::string_view s) {
    size_t slash = s.find('/');
    auto a = parse(s.substr(0, slash));
    if (!a) return std::nullopt;
    network n{*a, a->v4 ? 32 : 128};
    if (slash != std::string_view::npos) {
        std::string_view p = s.substr(slash + 1);
        if (p.empty() || p.size() > 3) return std::nullopt;
        int v = 0;
        for (char c : p) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        if (v > (a->v4 ? 32 : 128)) return std::nullopt;
        n.prefix = v;
    }
    // Clear host bits.
    int bits = n.base.v4 ? n.prefix + 96 : n.prefix;
    for (int i = 0; i < 16; ++i) {
        int keep = bits - i * 8;
        if (keep >= 8) continue;
        n.base.bytes[i] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    }
    return n;
}

bool contains(const network& n, const address& a) {
    if (n.base.v4 != a.v4) return false;
    int bits = n.base.v4 ? n.prefix + 96 : n.prefix;
    int full = bits / 8;
    if (std::memcmp(n.base.bytes.data(), a.bytes.data(), static_cast<size_t>(full)) != 0) return false;
    int rest = bits % 8;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (n.base.bytes[full] & mask) == (a.bytes[full] & mask);
}

bool is_private_or_reserved(const address& a) {
    if (a.v4) {
        uint32_t v = a.v4_value();
        auto in = [v](uint32_t net, int len) { return len == 0 || (v >> (32 - len)) == (net >> (32 - len)); };
        return in(0x00000000, 8) ||   // 0.0.0.0/8
               in(0x0A000000, 8) ||   // 10/8
               in(0x64400000, 10) ||  // 100.64/10 CGNAT
               in(0x7F000000, 8) ||   // loopback
               in(0xA9FE0000, 16) ||  // link-local
               in(0xAC100000, 12) ||  // 172.16/12
               in(0xC0000000, 24) ||  // 192.0.0/24
               in(0xC0000200, 24) ||  // TEST-NET-1
               in(0xC0A80000, 16) ||  // 192.168/16
               in(0xC6120000, 15) ||  // benchmarking
               in(0xC6336400, 24) ||  // TEST-NET-2
               in(0xCB007100, 24) ||  // TEST-NET-3
               in(0xE0000000, 4) ||   // multicast
               in(0xF0000000, 4);     // reserved + broadcast
    }
    const auto& b = a.bytes;
    bool all_zero = true;
    for (int i = 0; i < 15; ++i) all_zero &= b[i] == 0;
    if (all_zero && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
    if ((b[0] & 0xfe) == 0xfc) return true;                    // fc00::/7 unique local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;    // fe80::/10 link-local
    if (b[0] == 0xff) return true;                             // multicast
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // 2001:db8::/32
    return false;
}

}  // namespace sds::ip
