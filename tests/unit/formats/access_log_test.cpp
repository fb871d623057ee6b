#include <doctest/doctest.h>

#include "conformance.hpp"
#include "sds/formats/access_log.hpp"

using namespace sds;
using formats::access_log_flavour;

namespace {

std::string parse_ok(std::string_view line, access_log_flavour f = access_log_flavour::apache) {
    json::doc_builder d;
    auto st = formats::parse_access_log(line, d, f);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.err().message));
    return d.str();
}

std::string reject_reason(std::string_view line) {
    json::doc_builder d;
    auto st = formats::parse_access_log(line, d, access_log_flavour::nginx);
    return st.ok() ? std::string("accepted") : st.err().message;
}

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("access log: combined format with user, referrer and user agent") {
    std::string s = parse_ok(R"(127.0.0.1 user-identity frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=%41 HTTP/1.0" 200 2326 "http://example.com/start.html" "Mozilla/4.08")");
    CHECK(has(s, R"("@timestamp":"2000-10-10T20:55:36.000Z")"));
    CHECK(has(s, R"("user":{"name":"frank"})"));
    CHECK(has(s, R"("identity":"user-identity")"));
    CHECK(has(s, R"("url":{"original":"/apache_pb.gif?a=%41","path":"/apache_pb.gif","extension":"gif","query":"a=A"})"));
    CHECK(has(s, R"("referrer":"http://example.com/start.html")"));
    CHECK(has(s, R"("user_agent":{"original":"Mozilla/4.08"})"));
    CHECK(has(s, R"("source":{"address":"127.0.0.1","ip":"127.0.0.1"})"));
}

TEST_CASE("access log: vhost:port prefix, IPv6 client, X-Forwarded-For suffix") {
    std::string s = parse_ok(R"(www.example.com:443 2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6 - - [29/May/2017:19:02:48 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/7.79.1" X-Forwarded-For="10.225.192.17, 89.160.20.112")");
    CHECK(has(s, R"("destination":{"domain":"www.example.com","port":443})"));
    CHECK(has(s, R"("remote_addresses":["2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6","10.225.192.17","89.160.20.112"])"));
    CHECK(has(s, R"("source":{"address":"2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6")"));
    CHECK(formats::guess_access_log_flavour(R"(1.2.3.4 - - [29/May/2017:19:02:48 +0000] "GET / HTTP/1.1" 200 1 "-" "-" X-Forwarded-For="-")") ==
          access_log_flavour::apache);
}

TEST_CASE("access log: '-' request and escaped binary request keep the record") {
    std::string dash = parse_ok(R"(::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -)");
    CHECK(has(dash, R"("status_code":408)"));
    CHECK_FALSE(has(dash, "method"));
    std::string bin = parse_ok(R"(127.0.1.1:80 127.0.0.1 - - [13/Nov/2023:10:44:31 +0000] "\x16\x03\x03\x01\x8f\x01" 400 483 "-" "-")");
    CHECK(has(bin, R"("destination":{"ip":"127.0.1.1","port":80})"));
    CHECK_FALSE(has(bin, R"("url")"));
}

TEST_CASE("access log: wrong-typed fields, truncated lines and garbage") {
    std::string s = parse_ok(R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 lots)");
    CHECK(has(s, "bytes is not a number"));
    CHECK(reject_reason(R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" OK 12)") == "access log: status is not a number");
    CHECK(reject_reason(R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200)") == "access log: truncated line");
    CHECK(reject_reason(R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0)") == "access log: malformed request field");
    CHECK(reject_reason(R"(1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1)") == "access log: invalid time");
    CHECK(reject_reason("garbage") == "access log: no [time]");
    CHECK(reject_reason(R"(- [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1)") == "access log: missing client, ident or user");
    CHECK_FALSE(formats::looks_like_access_log("garbage"));
}

TEST_CASE("access log: every line of the Apache basic sample parses") {
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped: ../shared/testdata is absent");
        return;
    }
    auto lines = test::read_lines(test::shared_testdata("web-access-logs/apache/test-access-basic.log"));
    REQUIRE(lines.size() >= 16);
    for (const auto& l : lines) {
        CHECK_MESSAGE(formats::looks_like_access_log(l), l);
        json::doc_builder d;
        auto st = formats::parse_access_log(l, d, formats::guess_access_log_flavour(l));
        CHECK_MESSAGE(st.ok(), l);
        CHECK_MESSAGE(!has(d.str(), R"("error")"), l);
    }
}

TEST_CASE("access log: agreement with Elastic's nginx and apache access pipelines on their test inputs") {
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped: ../shared/testdata is absent");
        return;
    }
    {
        // Elastic's test config joins lines that do not start with an IPv4 address to the one
        // before (multiline), so its 10 lines make 4 documents, each parsed from its first line;
        // the comparison pairs each expected document with its best-matching line.
        auto lines = test::read_lines(test::shared_testdata("ecs-pipeline/nginx-access/test-test-with-host.log"));
        for (const auto& l : lines) CHECK_MESSAGE(formats::looks_like_access_log(l), l);
        auto f = test::compare_with_expected(lines, test::shared_testdata("ecs-pipeline/nginx-access/test-test-with-host.log-expected.json"),
                                             formats::parse_nginx);
        MESSAGE(f.summary("nginx"));
        for (const auto& n : f.notes) MESSAGE(n);
        CHECK(f.rejected == 0);
        CHECK(f.ratio() >= 0.95);
    }
    {
        auto lines = test::read_lines(test::shared_testdata("ecs-pipeline/apache-access/test-access-ssl-request.log"));
        for (const auto& l : lines) CHECK_MESSAGE(formats::looks_like_access_log(l), l);
        auto f = test::compare_with_expected(lines, test::shared_testdata("ecs-pipeline/apache-access/test-access-ssl-request.log-expected.json"),
                                             formats::parse_apache);
        MESSAGE(f.summary("apache"));
        for (const auto& n : f.notes) MESSAGE(n);
        CHECK(f.rejected == 0);
        CHECK(f.docs == lines.size());
        CHECK(f.ratio() >= 0.95);
    }
}

TEST_CASE("access log: SSL request log line with an unterminated request is rejected (fuzzer find)") {
    CHECK(reject_reason(R"([10/Aug/2018:09:45:56 +0200] 172.30.0.119 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "GET /x HTTP/1.1 1375)") ==
          "access log: malformed SSL request log line");
}
