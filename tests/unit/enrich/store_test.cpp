#include <doctest/doctest.h>

#include "sds/enrich/indicator.hpp"
#include "sds/enrich/store.hpp"

using namespace sds::enrich;

namespace {
uint32_t add(store& s, std::string_view v, uint32_t ctx) {
    auto c = classify(v);
    REQUIRE(c);
    s.add(*c, ctx, {});
    return 0;
}
sds::ip::address ip(std::string_view s) { return *sds::ip::parse(s); }
}  // namespace

TEST_CASE("indicator: values are recognised by kind") {
    CHECK(classify("1.2.3.4")->type == ind_type::ip);
    CHECK(classify("1.2.3.0/24")->net.prefix == 24);
    CHECK(classify("2001:db8::/32")->type == ind_type::ip);
    CHECK(classify("Evil.COM.")->value == "evil.com");
    CHECK(classify("example[.]com")->value == "example.com");
    CHECK(classify("hxxp://Evil.com:80/a?b#frag")->value == "http://evil.com/a?b");
    CHECK(classify("https://evil.com:8443")->value == "https://evil.com:8443/");
    CHECK(classify("D41D8CD98F00B204E9800998ECF8427E")->type == ind_type::md5);
    CHECK(classify("da39a3ee5e6b4b0d3255bfef95601890afd80709")->type == ind_type::sha1);
    CHECK(classify(std::string(64, 'a'))->type == ind_type::sha256);
    CHECK_FALSE(classify("domain autuo.xicp.net"));
    CHECK_FALSE(classify("1.2.3"));
    CHECK_FALSE(classify(""));
    CHECK_FALSE(classify("not a value"));
}

TEST_CASE("store: IPv4 and IPv6 match by longest prefix") {
    store s;
    uint32_t a = s.add_context({"wide"});
    uint32_t b = s.add_context({"narrow"});
    add(s, "10.0.0.0/8", a);
    add(s, "10.1.0.0/16", b);
    add(s, "10.1.2.3", b);
    add(s, "2001:db8::/32", a);
    add(s, "2001:db8:1::/48", b);
    s.finalize();
    CHECK(s.value_text(s.match_ip(ip("10.1.2.3"))) == "10.1.2.3");
    CHECK(s.value_text(s.match_ip(ip("10.1.9.9"))) == "10.1.0.0/16");
    CHECK(s.value_text(s.match_ip(ip("10.200.0.1"))) == "10.0.0.0/8");
    CHECK(s.match_ip(ip("11.0.0.1")) == store::none);
    CHECK(s.value_text(s.match_ip(ip("2001:db8:1::5"))) == "2001:db8:1::/48");
    CHECK(s.value_text(s.match_ip(ip("2001:db8:2::5"))) == "2001:db8::/32");
    CHECK(s.match_ip(ip("2001:db9::1")) == store::none);
}

TEST_CASE("store: a domain matches its subdomains, most specific first") {
    store s;
    uint32_t c = s.add_context({"f"});
    add(s, "evil.com", c);
    add(s, "b.evil.com", c);
    s.finalize();
    CHECK(s.value_text(s.match_domain("a.b.evil.com")) == "b.evil.com");
    CHECK(s.value_text(s.match_domain("x.evil.com")) == "evil.com");
    CHECK(s.value_text(s.match_domain("evil.com")) == "evil.com");
    CHECK(s.match_domain("notevil.com") == store::none);
    CHECK(s.match_domain("com") == store::none);
}

TEST_CASE("store: the same indicator from two feeds is stored once with both providers") {
    store s;
    uint32_t a = s.add_context({"feed-a"});
    uint32_t b = s.add_context({"feed-b"});
    add(s, "evil.com", a);
    add(s, "EVIL.com", b);
    add(s, "5.6.7.8", a);
    add(s, "5.6.7.8", b);
    CHECK(s.finalize() == 1);
    CHECK(s.size() == 2);
    std::string out;
    s.render(s.match_domain("evil.com"), "evil.com", "dns.question.name", out);
    CHECK(out.find("\"provider\":[\"feed-a\",\"feed-b\"]") != std::string::npos);
    out.clear();
    s.render(s.match_ip(ip("5.6.7.8")), "5.6.7.8", "source.ip", out);
    CHECK(out.find("\"provider\":[\"feed-a\",\"feed-b\"]") != std::string::npos);
    CHECK(out.find("\"matched\":{\"atomic\":\"5.6.7.8\",\"field\":\"source.ip\",\"type\":\"indicator_match_rule\"}") !=
          std::string::npos);
}

TEST_CASE("store: hashes match case-insensitively, URLs after normalisation") {
    store s;
    uint32_t c = s.add_context({"f", "desc", "AMBER", "ref", "High"});
    add(s, "D41D8CD98F00B204E9800998ECF8427E", c);
    add(s, "http://Evil.com:80/path", c);
    s.finalize();
    std::string n;
    ind_type t;
    REQUIRE(normalize_hash("d41d8cd98f00b204e9800998ecf8427e", n, t));
    CHECK(s.match_hash(n) != store::none);
    REQUIRE(normalize_url("HTTP://evil.COM/path#x", n));
    CHECK(s.match_url(n) != store::none);
    REQUIRE(normalize_url("http://evil.com/other", n));
    CHECK(s.match_url(n) == store::none);
    std::string out;
    s.render(s.match_hash("d41d8cd98f00b204e9800998ecf8427e"), "D41D", "file.hash.md5", out);
    CHECK(out.find("\"file\":{\"hash\":{\"md5\":\"d41d8cd98f00b204e9800998ecf8427e\"}}") != std::string::npos);
    CHECK(out.find("\"marking\":{\"tlp\":\"AMBER\"}") != std::string::npos);
    CHECK(out.find("\"confidence\":\"High\"") != std::string::npos);
}

TEST_CASE("store: md5, sha1 and sha256 are kept as bytes and read back as lower-case hex") {
    store s;
    uint32_t c = s.add_context({"f"});
    const std::string md5 = "D41D8CD98F00B204E9800998ECF8427E";
    const std::string sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    const std::string sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    add(s, md5, c);
    add(s, sha1, c);
    add(s, sha256, c);
    add(s, "d41d8cd98f00b204e9800998ecf8427e", c);  // the md5 again, other case
    s.finalize();
    CHECK(s.size() == 3);
    CHECK(s.value_text(s.match_hash(md5)) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(s.value_text(s.match_hash(sha1)) == sha1);
    CHECK(s.value_text(s.match_hash(sha256)) == sha256);
    // A prefix of a longer digest is not the shorter kind's digest.
    CHECK(s.match_hash(sha1.substr(0, 32)) == store::none);
    CHECK(s.match_hash(sha256.substr(0, 40)) == store::none);
    CHECK(s.match_hash("not-hex-not-hex-not-hex-not-hex!") == store::none);
    std::string out;
    s.render(s.match_hash(sha1), sha1, "file.hash.sha1", out);
    CHECK(out.find("\"file\":{\"hash\":{\"sha1\":\"" + sha1 + "\"}}") != std::string::npos);
}

TEST_CASE("store: first and last seen merge across feeds and are kept only where known") {
    store s;
    uint32_t a = s.add_context({"a"});
    uint32_t b = s.add_context({"b"});
    auto c1 = classify("evil.example");
    auto c2 = classify("other.example");
    auto c3 = classify("203.0.113.5");
    s.add(*c2, a, {});
    s.add(*c1, a, {2000000, 3000000, {}});
    s.add(*c1, b, {1000000, 2500000, {}});
    s.add(*c3, a, {0, 4000000, {}});
    s.add(*c3, b, {5000000, 0, {}});
    s.finalize();
    std::string out;
    s.render(s.match_domain("evil.example"), "evil.example", "dns.question.name", out);
    CHECK(out.find("\"first_seen\":\"1970-01-01T00:16:40.000Z\"") != std::string::npos);
    CHECK(out.find("\"last_seen\":\"1970-01-01T00:50:00.000Z\"") != std::string::npos);
    out.clear();
    s.render(s.match_domain("other.example"), "other.example", "dns.question.name", out);
    CHECK(out.find("first_seen") == std::string::npos);
    CHECK(out.find("last_seen") == std::string::npos);
    out.clear();
    s.render(s.match_ip(ip("203.0.113.5")), "203.0.113.5", "source.ip", out);
    CHECK(out.find("\"first_seen\":\"1970-01-01T01:23:20.000Z\"") != std::string::npos);
    CHECK(out.find("\"last_seen\":\"1970-01-01T01:06:40.000Z\"") != std::string::npos);
}

TEST_CASE("store: many keys survive the tables growing and shrinking") {
    store s;
    uint32_t c = s.add_context({"f"});
    for (int i = 0; i < 20000; ++i) add(s, "d" + std::to_string(i) + ".example", c);
    s.finalize();
    CHECK(s.size() == 20000);
    for (int i = 0; i < 20000; i += 7) CHECK(s.value_text(s.match_domain("x.d" + std::to_string(i) + ".example")) == "d" + std::to_string(i) + ".example");
    CHECK(s.match_domain("d20000.example") == store::none);
    CHECK(s.memory_bytes() > 20000 * 16);
}

TEST_CASE("store: absorbing a separately loaded store equals adding its indicators here") {
    const char* first[] = {"evil.com", "10.0.0.0/8", "5.6.7.8", "D41D8CD98F00B204E9800998ECF8427E", "http://x.example/a"};
    const char* second[] = {"EVIL.com", "5.6.7.8", "b.evil.com", "d41d8cd98f00b204e9800998ecf8427e", "2001:db8::/32",
                            "evil.com", "http://x.example:80/a", "10.0.0.0/8"};
    auto fill = [](store& s, uint32_t ctx, auto& values, int64_t t0) {
        for (const char* v : values) {
            auto c = classify(v);
            REQUIRE(c);
            s.add(*c, ctx, {t0, t0 + 1000, {}});
        }
    };
    store serial, main, side;
    serial.add_context({"one"});
    serial.add_context({"two"});
    fill(serial, 0, first, 5000000);
    fill(serial, 1, second, 1000000);
    size_t serial_dups = serial.finalize();

    main.add_context({"one"});
    fill(main, 0, first, 5000000);
    side.add_context({"two"});
    fill(side, 0, second, 1000000);
    size_t absorbed_dups = main.absorb(std::move(side));
    CHECK(absorbed_dups == 3);  // EVIL.com, the md5, the URL (evil.com again is side's own)
    size_t main_dups = main.finalize();
    CHECK(main_dups == serial_dups);
    CHECK(main.size() == serial.size());
    const std::pair<const char*, const char*> probes[] = {
        {"ip", "5.6.7.8"}, {"ip", "10.1.1.1"}, {"ip", "2001:db8::9"}, {"domain", "a.b.evil.com"},
        {"domain", "evil.com"}, {"hash", "d41d8cd98f00b204e9800998ecf8427e"}, {"url", "http://x.example/a"}};
    for (auto [kind, v] : probes) {
        INFO(v);
        auto find = [&](const store& s) {
            std::string k = kind;
            if (k == "ip") return s.match_ip(ip(v));
            if (k == "domain") return s.match_domain(v);
            if (k == "hash") return s.match_hash(v);
            return s.match_url(v);
        };
        uint32_t a = find(serial), b = find(main);
        REQUIRE(a != store::none);
        REQUIRE(b != store::none);
        std::string ra, rb;
        serial.render(a, v, "f", ra);
        main.render(b, v, "f", rb);
        CHECK(ra == rb);
    }
}
