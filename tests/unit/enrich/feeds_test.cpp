#include <doctest/doctest.h>

#include <string>

#include "sds/core/time.hpp"
#include "sds/enrich/feeds.hpp"
#include "sds/enrich/geo.hpp"
#include "sds/enrich/md5.hpp"

using namespace sds::enrich;

namespace {
const std::string data = SDS_TEST_DATA;
const std::string intel = data + "/intel";
load_options now_opts() {
    load_options o;
    o.now_ms = sds::time::now();
    return o;
}
sds::ip::address ip(std::string_view s) { return *sds::ip::parse(s); }
std::string dom(std::string_view s) {
    std::string o;
    normalize_domain(s, o);
    return o;
}
}  // namespace

TEST_CASE("feeds: MISP feed folder with event files missing from the manifest") {
    store s;
    loader l(s, nullptr, now_opts());
    REQUIRE(l.load_path(intel + "/misp/feed-infoblox"));
    s.finalize();
    CHECK(l.stats().missing_events == 17);
    CHECK(l.stats().files == 29);
    CHECK(l.stats().added > 1000);
    CHECK(s.match_domain(dom("aaaaa655.com")) != store::none);
    CHECK(s.match_domain(dom("sub.aaaaa655.com")) != store::none);
    std::string out;
    s.render(s.match_domain("aaaaa655.com"), "aaaaa655.com", "dns.question.name", out);
    CHECK(out.find("\"provider\":\"Infoblox\"") != std::string::npos);
    CHECK(out.find("\"tlp\":\"WHITE\"") != std::string::npos);
    CHECK(out.find("misp:event/0472809b-1582-4dde-88a9-d82848e9e660") != std::string::npos);
    CHECK(out.find("\"description\":\"suspicious_dga_cta_20230823\"") != std::string::npos);
}

TEST_CASE("feeds: MISP event export honours to_ids unless non-IDS attributes are asked for") {
    store s0;
    loader real(s0, nullptr, now_opts());
    REQUIRE(real.load_path(intel + "/misp/circl-osint-events/MISP-tests-event.json"));
    CHECK(s0.match_hash("744c07e886497f7b68f6f7fe57b7ab54") != store::none);
    CHECK(real.stats().other_types > 0);  // filename, regkey, text, link
    std::string ev = R"({"Event":{"info":"t","uuid":"u-1","threat_level_id":"2","Tag":[{"name":"tlp:green"}],
      "Attribute":[{"type":"ip-dst","value":"198.51.100.20","to_ids":true},
                   {"type":"ip-dst","value":"198.51.100.21","to_ids":false},
                   {"type":"domain|ip","value":"evil.example|198.51.100.22","to_ids":true},
                   {"type":"filename|sha1","value":"a.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709","to_ids":true}],
      "Object":[{"Attribute":[{"type":"url","value":"http://evil.example/x","to_ids":true}]}]}})";
    store s1, s2;
    loader strict(s1, nullptr, now_opts());
    REQUIRE(strict.load_text(ev, "e.json"));
    auto o = now_opts();
    o.include_non_ids = true;
    loader loose(s2, nullptr, o);
    REQUIRE(loose.load_text(ev, "e.json"));
    s1.finalize();
    s2.finalize();
    CHECK(strict.stats().non_ids == 1);
    CHECK(s1.size() == 5);
    CHECK(s2.size() == 6);
    CHECK(s1.match_ip(ip("198.51.100.21")) == store::none);
    CHECK(s2.match_ip(ip("198.51.100.21")) != store::none);
    CHECK(s1.match_domain("evil.example") != store::none);
    CHECK(s1.match_ip(ip("198.51.100.22")) != store::none);
    CHECK(s1.match_hash("da39a3ee5e6b4b0d3255bfef95601890afd80709") != store::none);
    CHECK(s1.match_url("http://evil.example/x") != store::none);
    std::string out;
    s1.render(s1.match_ip(ip("198.51.100.20")), "198.51.100.20", "destination.ip", out);
    CHECK(out.find("\"tlp\":\"GREEN\"") != std::string::npos);
    CHECK(out.find("\"confidence\":\"Medium\"") != std::string::npos);
}

TEST_CASE("feeds: STIX bundles with OR patterns, CIDRs and hashes; AND patterns skipped") {
    store s;
    loader l(s, nullptr, now_opts());
    REQUIRE(l.load_path(intel + "/stix/poisonivy.json"));
    REQUIRE(l.load_path(intel + "/stix/apt1.json"));
    CHECK(s.finalize() > 0);  // the same C2 addresses in several indicators
    CHECK(s.match_ip(ip("113.10.246.30")) != store::none);
    CHECK(s.match_domain("www.webserver.dynssl.com") != store::none);
    CHECK(s.value_text(s.match_ip(ip("223.167.1.1"))) == "223.166.0.0/15");
    CHECK(s.match_hash("001dd76872d80801692ff942308c64e6") != store::none);
    CHECK(l.stats().other_types >= 2);  // x509 AND patterns, file:name
    CHECK(l.stats().bad == 1);          // 'domain autuo.xicp.net'
}

TEST_CASE("feeds: STIX indicator past valid_until is dropped") {
    store s;
    loader l(s, nullptr, now_opts());
    std::string bundle = R"({"type":"bundle","id":"bundle--1","objects":[
      {"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",
       "valid_from":"2020-01-01T00:00:00Z","valid_until":"2021-01-01T00:00:00Z"},
      {"type":"indicator","id":"indicator--2","pattern":"[ipv4-addr:value = '198.51.100.8']","pattern_type":"stix",
       "valid_from":"2020-01-01T00:00:00Z","confidence":85,
       "object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]}]})";
    REQUIRE(l.load_text(bundle, "b.json"));
    s.finalize();
    CHECK(l.stats().expired == 1);
    CHECK(s.match_ip(ip("198.51.100.7")) == store::none);
    REQUIRE(s.match_ip(ip("198.51.100.8")) != store::none);
    std::string out;
    s.render(s.match_ip(ip("198.51.100.8")), "198.51.100.8", "source.ip", out);
    CHECK(out.find("\"tlp\":\"RED\"") != std::string::npos);
    CHECK(out.find("\"confidence\":\"High\"") != std::string::npos);
}

TEST_CASE("feeds: CSV with defanged values and a header; plain lists with comments") {
    store s;
    loader l(s, nullptr, now_opts());
    REQUIRE(l.load_path(intel + "/misp/csv-infoblox/c2_beacon_20230414_iocs.csv"));
    REQUIRE(l.load_path(intel + "/misp/freetext-ipsum/5.txt"));
    s.finalize();
    CHECK(s.match_domain("claudfront.net") != store::none);
    CHECK(l.stats().bad == 0);
    CHECK(s.size() > 1000);
}

TEST_CASE("feeds: --intel-column picks the CSV column by name or number") {
    store s;
    auto o = now_opts();
    o.csv_column = "2";
    loader l(s, nullptr, o);
    REQUIRE(l.load_text("a,203.0.113.9,x\nb,not-an-ip value,y\n", "list.csv"));
    s.finalize();
    CHECK(s.match_ip(ip("203.0.113.9")) != store::none);
    CHECK(l.stats().bad == 1);
}

TEST_CASE("feeds: a feed that cannot be parsed is a usage error naming file and line") {
    store s;
    loader l(s, nullptr, now_opts());
    auto r = l.load_text("{\n\"Event\": {\n \"info\": \"x\",\n \"Attribute\": [ {\"type\": \"ip-dst\" \"value\": 1} ]\n}}\n",
                         "broken.json");
    REQUIRE_FALSE(r);
    CHECK(r.err().code == sds::exit_code::usage);
    CHECK(r.err().message.find("broken.json:4") != std::string::npos);
    auto r2 = l.load_text("this is\nnot a feed\n", "words.txt");
    REQUIRE_FALSE(r2);
    CHECK(r2.err().message.find("words.txt:1") != std::string::npos);
}

TEST_CASE("feeds: a bad entry in a good list is skipped and counted") {
    store s;
    loader l(s, nullptr, now_opts());
    REQUIRE(l.load_text("# list\n198.51.100.1\nnot valid here\n198.51.100.2\n", "list.txt"));
    CHECK(l.stats().bad == 1);
    CHECK(l.stats().added == 2);
}

TEST_CASE("feeds: --intel-max-age drops indicators last seen long ago") {
    store s;
    auto o = now_opts();
    o.max_age_ms = 24 * 3600 * 1000LL;
    loader l(s, nullptr, o);
    REQUIRE(l.load_path(intel + "/misp/feed-infoblox"));
    CHECK(l.stats().added == 0);
    CHECK(l.stats().expired > 1000);
}

TEST_CASE("warninglists: cidr, hostname and string lists remove values at load") {
    warninglists wl;
    REQUIRE(wl.load(intel + "/misp/warninglists"));
    CHECK(wl.lists() == 8);
    CHECK(wl.covers(*classify("10.1.2.3")));
    CHECK(wl.covers(*classify("192.168.0.0/24")));
    CHECK(wl.covers(*classify("2001:db8::1")));
    CHECK_FALSE(wl.covers(*classify("8.8.8.8")));
    CHECK(wl.covers(*classify("2014.hack.lu")));
    CHECK(wl.covers(*classify("www.2014.hack.lu")));
    CHECK(wl.covers(*classify("d41d8cd98f00b204e9800998ecf8427e")));
    CHECK_FALSE(wl.covers(*classify("evil.example.net")));
    store s;
    loader l(s, &wl, now_opts());
    REQUIRE(l.load_text("10.0.0.1\n8.8.4.4\n224.0.0.1\n", "l.txt"));
    CHECK(l.stats().warninglisted == 2);
    CHECK(l.stats().added == 1);
    warninglists re;
    REQUIRE(re.add_list(R"({"type":"regex","list":["/^evil[0-9]+\\.example$/i"]})", "re"));
    CHECK(re.covers(*classify("EVIL12.example")));
    warninglists sub;
    REQUIRE(sub.add_list(R"({"type":"substring","list":["googleusercontent"]})", "sub"));
    CHECK(sub.covers(*classify("x.googleusercontent.com")));
}

TEST_CASE("geo: MaxMind City and ASN test databases") {
    auto city = mmdb_file::open(data + "/mmdb/GeoIP2-City-Test.mmdb", mmdb_file::kind::geo);
    auto asn = mmdb_file::open(data + "/mmdb/GeoLite2-ASN-Test.mmdb", mmdb_file::kind::asn);
    REQUIRE(city);
    REQUIRE(asn);
    CHECK((*city)->layout() == geo_layout::maxmind);
    geo_enricher g(std::move(*city), std::move(*asn), 64);
    auto r = g.lookup(ip("89.160.20.128"));
    CHECK(std::string(r.geo).find("\"city_name\":\"Linköping\"") != std::string::npos);
    CHECK(std::string(r.geo).find("\"region_iso_code\":\"SE-E\"") != std::string::npos);
    CHECK(std::string(r.as) == R"({"number":29518,"organization":{"name":"Bredband2 AB"}})");
    r = g.lookup(ip("89.160.20.128"));
    CHECK(g.cache_hits() == 1);
    r = g.lookup(ip("2a02:cf40::1"));
    CHECK(std::string(r.geo).find("\"country_iso_code\":\"NO\"") != std::string::npos);
    r = g.lookup(ip("203.0.113.1"));
    CHECK(r.geo.empty());
}

TEST_CASE("geo: a broken database fails cleanly") {
    auto bad = mmdb_file::open(data + "/mmdb/GeoIP2-City-Test-Invalid-Node-Count.mmdb", mmdb_file::kind::geo);
    auto missing = mmdb_file::open(data + "/mmdb/nope.mmdb", mmdb_file::kind::geo);
    CHECK_FALSE(missing);
    if (!bad) CHECK(bad.err().code == sds::exit_code::usage);
}

TEST_CASE("feeds: hashes.csv keeps the value hashes of events not loaded, with their manifest context") {
    const std::string a = "11111111-2222-4333-8444-555555555555", b = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    std::string manifest_text = "{\"" + a + "\":{\"Orgc\":{\"name\":\"Org A\"},\"info\":\"event a\",\"threat_level_id\":2,"
                                "\"Tag\":[{\"name\":\"tlp:green\"}],\"timestamp\":1715767121},\"" + b +
                                "\":{\"Orgc\":{\"name\":\"Org B\"},\"info\":\"event b\"}}";
    simdjson::dom::parser p;
    simdjson::padded_string padded(manifest_text);
    simdjson::dom::object manifest = p.parse(padded).get_object().value();
    auto hex = [](const md5_digest& d) {
        static const char digits[] = "0123456789ABCDEF";
        std::string s;
        for (uint8_t x : d) {
            s.push_back(digits[x >> 4]);
            s.push_back(digits[x & 15]);
        }
        return s;
    };
    std::string csv = hex(md5("evil.example")) + "," + a + "\n" +      // kept
                      hex(md5("evil.example")) + "," + a + "\r\n" +    // the same again
                      hex(md5("203.0.113.9")) + "," + b + "\n" +       // b is loaded
                      "not a hash," + a + "\n" +                       // bad
                      hex(md5("x")) + ",not-a-uuid\n" +                // bad
                      "\n";
    store s;
    loader l(s, nullptr, now_opts());
    REQUIRE(l.load_feed_hashes(csv, "feed/hashes.csv", manifest, {b}, "feed"));
    s.finalize();
    CHECK(l.stats().hashes_loaded == 3);
    CHECK(l.stats().hashes_used == 1);
    CHECK(l.stats().hashes_redundant == 2);
    CHECK(l.stats().bad == 2);
    CHECK(s.value_hash_count() == 1);
    CHECK(s.size() == 0);
    auto [first, last] = s.match_value_hash(md5("evil.example"));
    REQUIRE(last - first == 1);
    auto none = s.match_value_hash(md5("203.0.113.9"));
    CHECK(none.first == none.second);
    std::string out;
    s.render_value_hash(first, ind_type::domain, false, "evil.example", "EVIL.example", "dns.question.name", out);
    CHECK(out.find("\"type\":\"domain-name\"") != std::string::npos);
    CHECK(out.find("\"provider\":\"Org A\"") != std::string::npos);
    CHECK(out.find("\"description\":\"event a\"") != std::string::npos);
    CHECK(out.find("\"tlp\":\"GREEN\"") != std::string::npos);
    CHECK(out.find("\"confidence\":\"Medium\"") != std::string::npos);
    CHECK(out.find("\"reference\":\"misp:event/" + a + "\"") != std::string::npos);
    CHECK(out.find("\"atomic\":\"EVIL.example\"") != std::string::npos);
}

TEST_CASE("feeds: a hashes.csv without one good line is an error naming file and line") {
    simdjson::dom::parser p;
    simdjson::padded_string padded(std::string("{}"));
    simdjson::dom::object manifest = p.parse(padded).get_object().value();
    store s;
    loader l(s, nullptr, now_opts());
    auto st = l.load_feed_hashes("\n<html>\n", "feed/hashes.csv", manifest, {}, "feed");
    REQUIRE_FALSE(st);
    CHECK(st.err().message.find("feed/hashes.csv:2") != std::string::npos);
}

TEST_CASE("feeds: hashes of events older than --intel-max-age are dropped and counted") {
    const std::string a = "11111111-2222-4333-8444-555555555555";
    std::string manifest_text = "{\"" + a + "\":{\"info\":\"old\",\"timestamp\":1000000000}}";
    simdjson::dom::parser p;
    simdjson::padded_string padded(manifest_text);
    simdjson::dom::object manifest = p.parse(padded).get_object().value();
    load_options o = now_opts();
    o.max_age_ms = 86400'000;
    store s;
    loader l(s, nullptr, o);
    REQUIRE(l.load_feed_hashes("0cc175b9c0f1b6a831c399e269772661," + a + "\n", "h.csv", manifest, {}, "feed"));
    CHECK(l.stats().hashes_expired == 1);
    CHECK(l.stats().hashes_used == 0);
    CHECK_FALSE(s.has_value_hashes());
}
