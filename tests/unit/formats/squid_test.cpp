#include <doctest/doctest.h>

#include "conformance.hpp"
#include "sds/formats/squid.hpp"

using namespace sds;

namespace {

std::string parse_ok(std::string_view line) {
    json::doc_builder d;
    auto st = formats::parse_squid(line, d);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.err().message));
    return d.str();
}

std::string reject_reason(std::string_view line) {
    json::doc_builder d;
    auto st = formats::parse_squid(line, d);
    return st.ok() ? std::string("accepted") : st.err().message;
}

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("squid: native access.log line") {
    std::string s = parse_ok("1157689320.327   2864 10.105.21.199 TCP_MISS/200 10182 GET http://www.goonernews.com/ badeyek DIRECT/175.16.199.61 text/html");
    CHECK(has(s, R"("@timestamp":"2006-09-08T04:22:00.327Z")"));
    CHECK(has(s, R"("duration":2864000000)"));
    CHECK(has(s, R"("destination":{"bytes":10182,"address":"175.16.199.61","ip":"175.16.199.61"})"));
    CHECK(has(s, R"("squid":{"status_code":200,"result_code":"TCP_MISS","peer_status":"DIRECT","content_type":"text/html"})"));
    CHECK(has(s, R"("url":{"original":"http://www.goonernews.com/","scheme":"http","domain":"www.goonernews.com","path":"/"})"));
    CHECK(has(s, R"("related":{"user":["badeyek"],"hosts":["www.goonernews.com"],"ip":["10.105.21.199","175.16.199.61"]})"));
}

TEST_CASE("squid: CONNECT keeps host:port as url.original only") {
    std::string s = parse_ok("1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -");
    CHECK(has(s, R"("url":{"original":"login.yahoo.com:443"})"));
    CHECK_FALSE(has(s, "content_type"));
}

TEST_CASE("squid: wrong-typed fields noted; truncated lines and garbage rejected") {
    std::string s = parse_ok("1157689320.327 2864 not-an-ip TCP_MISS/2x0 many GET http://a/ - DIRECT/- -");
    CHECK(has(s, R"("source":{"address":"not-an-ip"})"));
    CHECK(has(s, "client is not an IP"));
    CHECK(has(s, "status is not a number"));
    CHECK(has(s, "numeric field is not a number"));
    CHECK(reject_reason("1157689320.327 2864 10.0.0.1 TCP_MISS/200 10182 GET") == "squid: truncated line");
    CHECK(reject_reason("yesterday 2864 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/- -") == "squid: invalid time");
    CHECK(reject_reason("1157689320.327 2864 10.0.0.1 TCP_MISS 1 GET http://a/ - DIRECT/- -") == "squid: no result code/status");
    CHECK(reject_reason("1157689320.327 2864 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/- - extra") ==
          "squid: unexpected fields after the content type");
    CHECK(reject_reason("garbage") == "squid: truncated line");
    CHECK_FALSE(formats::looks_like_squid("garbage"));
}

TEST_CASE("squid: all 100 lines of the web-access-logs sample parse cleanly") {
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped: ../shared/testdata is absent");
        return;
    }
    auto lines = test::read_lines(test::shared_testdata("web-access-logs/squid/test-access.log"));
    REQUIRE(lines.size() == 100);
    for (const auto& l : lines) {
        CHECK_MESSAGE(formats::looks_like_squid(l), l);
        json::doc_builder d;
        auto st = formats::parse_squid(l, d);
        CHECK_MESSAGE(st.ok(), l);
        CHECK_MESSAGE(!has(d.str(), R"("error")"), l);
    }
}

TEST_CASE("squid: agreement with Elastic's squid pipeline on its own test input") {
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped: ../shared/testdata is absent");
        return;
    }
    auto lines = test::read_lines(test::shared_testdata("ecs-pipeline/squid-log/test-access-extensive.log"));
    for (const auto& l : lines) CHECK_MESSAGE(formats::looks_like_squid(l), l);
    auto f = test::compare_with_expected(lines, test::shared_testdata("ecs-pipeline/squid-log/test-access-extensive.log-expected.json"),
                                         formats::parse_squid);
    MESSAGE(f.summary("squid"));
    for (const auto& n : f.notes) MESSAGE(n);
    CHECK(f.rejected == 0);
    CHECK(f.docs == lines.size());
    // Floor: the misses are url.registered_domain / url.top_level_domain, which need the
    // public suffix list (not shipped).
    CHECK(f.ratio() >= 0.95);
}
