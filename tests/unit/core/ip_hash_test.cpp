// core/ip (parsing, canonical text, CIDR, private classes) and core/hash (stable ids).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "sds/core/hash.hpp"
#include "sds/core/ip.hpp"

using namespace sds;

namespace {
ip::address addr(const char* s) {
    auto a = ip::parse(s);
    REQUIRE_MESSAGE(a, s);
    return *a;
}
bool in(const char* cidr, const char* a) {
    auto n = ip::parse_cidr(cidr);
    REQUIRE_MESSAGE(n, cidr);
    return ip::contains(*n, addr(a));
}
}  // namespace

TEST_CASE("ip: IPv4, IPv6, mapped and zoned forms parse to canonical text") {
    CHECK(ip::to_string(addr("192.168.1.1")) == "192.168.1.1");
    CHECK(addr("192.168.1.1").v4);
    CHECK(addr("192.168.1.1").v4_value() == 0xC0A80101u);
    CHECK(ip::to_string(addr("2001:DB8:0:0:0:0:0:1")) == "2001:db8::1");
    CHECK(ip::to_string(addr("::")) == "::");
    CHECK_FALSE(addr("::1").v4);
    CHECK(addr("::ffff:10.0.0.1").v4);  // mapped: the same address as 10.0.0.1
    CHECK(addr("::ffff:10.0.0.1") == addr("10.0.0.1"));
    CHECK(ip::to_string(addr("::ffff:10.0.0.1")) == "10.0.0.1");
    CHECK(ip::to_string(addr("fe80::1%eth0")) == "fe80::1");
    for (const char* s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4x", "1.2.3.4 ", "::g",
                          "1:2:3:4:5:6:7:8:9", "example.com", "1.2.3.4/8"}) {
        CAPTURE(s);
        CHECK_FALSE(ip::parse(s));
        CHECK_FALSE(ip::is_ip(s));
    }
    CHECK_FALSE(ip::parse(std::string(100, '1')));
}

TEST_CASE("ip: CIDR parsing clears host bits; contains respects the prefix and the family") {
    auto n = ip::parse_cidr("10.1.2.3/8");
    REQUIRE(n);
    CHECK(ip::to_string(n->base) == "10.0.0.0");
    CHECK(n->prefix == 8);
    CHECK(in("10.0.0.0/8", "10.255.255.255"));
    CHECK_FALSE(in("10.0.0.0/8", "11.0.0.0"));
    CHECK(in("192.168.1.128/25", "192.168.1.200"));
    CHECK_FALSE(in("192.168.1.128/25", "192.168.1.127"));
    CHECK(in("0.0.0.0/0", "8.8.8.8"));
    CHECK(in("1.2.3.4", "1.2.3.4"));  // no prefix: a host
    CHECK_FALSE(in("1.2.3.4/32", "1.2.3.5"));
    CHECK(in("2001:db8::/32", "2001:db8:ffff::1"));
    CHECK_FALSE(in("2001:db8::/33", "2001:db8:8000::1"));
    CHECK(in("::/0", "::1"));
    CHECK_FALSE(in("::/0", "1.2.3.4"));  // families do not mix
    CHECK_FALSE(in("0.0.0.0/0", "2001:db8::1"));
    CHECK(in("10.0.0.0/8", "::ffff:10.9.9.9"));  // mapped IPv4 is IPv4
    for (const char* s : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/0008", "x/8"}) {
        CAPTURE(s);
        CHECK_FALSE(ip::parse_cidr(s));
    }
}

TEST_CASE("ip: private and reserved classes have no public geography") {
    for (const char* s : {"10.1.1.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "127.0.0.1", "169.254.169.254",
                          "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.1",
                          "203.0.113.1", "198.18.0.1", "::1", "::", "fc00::1", "fd12::1", "fe80::1", "ff02::1",
                          "2001:db8::1", "::ffff:192.168.1.1"}) {
        CAPTURE(s);
        CHECK(ip::is_private_or_reserved(addr(s)));
    }
    for (const char* s : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "89.160.20.128", "1.1.1.1",
                          "2a02:cf40::1", "2001:4860:4860::8888", "::ffff:8.8.8.8"}) {
        CAPTURE(s);
        CHECK_FALSE(ip::is_private_or_reserved(addr(s)));
    }
}

TEST_CASE("hash: stable64 and hex128 values are pinned (event ids derive from them)") {
    // Computed independently from the documented algorithm (FNV-1a 64 + murmur3 finaliser).
    CHECK(hash::stable64("") == 0xefd01f60ba992926ULL);
    CHECK(hash::stable64("a") == 0x82a2a958a9bece5bULL);
    CHECK(hash::hex128("s3://bucket/key:1") == "c88693a20d6375d799a416d6ab971976");
    CHECK(hash::stable64("a", 1) != hash::stable64("a", 2));
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) seen.insert(hash::hex128("file://x:" + std::to_string(i)));
    CHECK(seen.size() == 10000);
}

TEST_CASE("hash: hex128_hasher over parts and append_hex128 give hex128 of the whole, at every length and split") {
    std::string data;
    for (int n = 0; n < 80; ++n) {
        std::string out = "x";
        hash::append_hex128(out, data);
        CHECK(out == "x" + hash::hex128(data));
        for (size_t cut = 0; cut <= data.size(); cut += 7) {
            hash::hex128_hasher h;
            h.add(std::string_view(data).substr(0, cut));
            h.add(std::string_view(data).substr(cut));
            std::string parts;
            h.append_to(parts);
            CHECK(parts == hash::hex128(data));
        }
        data.push_back(static_cast<char>(n * 37 + 200));  // high bytes too
    }
    hash::hex128_hasher h;
    h.add("s3://bucket/");
    h.add("key:1");
    std::string out;
    h.append_to(out);
    CHECK(out == "c88693a20d6375d799a416d6ab971976");  // the pinned value above, from parts
}
