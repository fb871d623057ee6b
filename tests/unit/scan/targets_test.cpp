#include <doctest/doctest.h>

#include "sds/scan/connect.hpp"
#include "sds/scan/ports.hpp"
#include "sds/scan/scan.hpp"
#include "sds/scan/service.hpp"
#include "sds/scan/targets.hpp"

using namespace sds;
using namespace sds::scan;

TEST_CASE("scan ports: lists, ranges and open-ended ranges are merged, sorted and de-duplicated") {
    auto p = parse_ports("443, 22,20-23,65530-");
    REQUIRE(p);
    CHECK(*p == std::vector<uint16_t>{20, 21, 22, 23, 443, 65530, 65531, 65532, 65533, 65534, 65535});
    auto all = parse_ports("-");
    REQUIRE(all);
    CHECK(all->size() == 65535);
    CHECK(all->front() == 1);
}

TEST_CASE("scan ports: top100 and top1000 are nmap's most frequent sets") {
    auto t100 = parse_ports("top100");
    auto t1000 = parse_ports("top1000");
    REQUIRE(t100);
    REQUIRE(t1000);
    CHECK(t100->size() == 100);
    CHECK(t1000->size() == 1000);
    for (uint16_t p : {22, 80, 443, 3389, 8080}) CHECK(std::binary_search(t100->begin(), t100->end(), p));
    for (uint16_t p : *t100) CHECK(std::binary_search(t1000->begin(), t1000->end(), p));
    auto mixed = parse_ports("top100,9");
    REQUIRE(mixed);
    CHECK(mixed->size() == 100);  // 9 (discard) is in top100 already
}

TEST_CASE("scan ports: bad items are usage errors naming the item") {
    for (const char* bad : {"0", "65536", "80-20", "http", "1,,x", ""}) {
        auto p = parse_ports(bad);
        CHECK_FALSE(p);
        if (!p) CHECK(p.err().code == exit_code::usage);
    }
    CHECK(parse_ports("abc").err().message.find("abc") != std::string::npos);
}

TEST_CASE("scan targets: addresses, networks and names are told apart") {
    auto a = parse_target(" 127.0.0.1 ");
    REQUIRE(a);
    CHECK(a->kind == target_kind::address);
    auto b = parse_target("[::1]");
    REQUIRE(b);
    CHECK(b->kind == target_kind::address);
    CHECK_FALSE(b->addr.v4);
    auto n = parse_target("10.1.2.3/30");
    REQUIRE(n);
    CHECK(n->kind == target_kind::network);
    CHECK(n->size == 4);
    auto h = parse_target("WWW.Example.COM.");
    REQUIRE(h);
    CHECK(h->kind == target_kind::name);
    CHECK(h->name == "www.example.com");
}

TEST_CASE("scan targets: garbage is rejected with a reason") {
    CHECK(parse_target("10.0.0.0/33").err().message.find("invalid CIDR") == 0);
    CHECK(parse_target("300.1.2.3").err().message.find("invalid IP address") == 0);
    CHECK(parse_target("fe80::zz").err().message.find("invalid IP address") == 0);
    CHECK(parse_target("bad name!").err().message.find("invalid host name") == 0);
    CHECK(parse_target("-lead.example").err().message.find("invalid host name") == 0);
    CHECK_FALSE(parse_target("   "));
}

TEST_CASE("scan targets: CIDR expansion walks every address of the network in order") {
    auto n = ip::parse_cidr("192.0.2.8/29");
    REQUIRE(n);
    CHECK(network_size(*n) == 8);
    CHECK(ip::to_string(network_address(*n, 0)) == "192.0.2.8");
    CHECK(ip::to_string(network_address(*n, 7)) == "192.0.2.15");
    auto v6 = ip::parse_cidr("2001:db8::ff/120");
    REQUIRE(v6);
    CHECK(network_size(*v6) == 256);
    CHECK(ip::to_string(network_address(*v6, 255)) == "2001:db8::ff");
    auto big = ip::parse_cidr("2001:db8::/32");
    REQUIRE(big);
    CHECK(network_size(*big) == UINT64_MAX);
    auto across = ip::parse_cidr("10.0.0.0/23");
    REQUIRE(across);
    CHECK(ip::to_string(network_address(*across, 256)) == "10.0.1.0");
}

TEST_CASE("scan targets: names under .invalid never resolve; localhost does") {
    auto r = resolve_all({"nothing.invalid", "localhost"}, 2);
    REQUIRE(r.size() == 2);
    CHECK_FALSE(r[0]);
    CHECK(r[0].err().message.find("cannot resolve: nothing.invalid") == 0);
    REQUIRE(r[1]);
    CHECK_FALSE(r[1]->empty());
}

TEST_CASE("scan service: banners win over port numbers") {
    CHECK(guess_service(2222, "SSH-2.0-OpenSSH_9.2p1").name == "ssh");
    CHECK(guess_service(2222, "SSH-2.0-OpenSSH_9.2p1").method == "banner");
    CHECK(guess_service(25, "220 mx.example ESMTP Postfix").name == "smtp");
    CHECK(guess_service(2121, "220 (vsFTPd 3.0.3)").name == "ftp");
    CHECK(guess_service(8081, "HTTP/1.1 200 OK").name == "http");
    CHECK(guess_service(110, "+OK ready").name == "pop3");
    CHECK(guess_service(22, "").name == "ssh");
    CHECK(guess_service(22, "").method == "port");
    CHECK(guess_service(40001, "").name.empty());
}

TEST_CASE("scan options: durations accept ms, s, m and bare seconds") {
    CHECK(*parse_duration_ms("500ms") == 500);
    CHECK(*parse_duration_ms("1.5s") == 1500);
    CHECK(*parse_duration_ms("2") == 2000);
    CHECK(*parse_duration_ms("1m") == 60000);
    CHECK_FALSE(parse_duration_ms("soon"));
    CHECK_FALSE(parse_duration_ms("5d"));
}
