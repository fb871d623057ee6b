#include <doctest/doctest.h>

#include "conformance.hpp"
#include "sds/formats/alb.hpp"

using namespace sds;

namespace {

std::string parse_ok(std::string_view line) {
    json::doc_builder d;
    auto st = formats::parse_elb(line, d);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.err().message));
    return d.str();
}

std::string reject_reason(std::string_view line) {
    json::doc_builder d;
    auto st = formats::parse_elb(line, d);
    return st.ok() ? std::string("accepted") : st.err().message;
}

// From the AWS documentation's ALB access log examples (tests/data/formats/alb/README).
const char* alb_https =
    "https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 "
    "0.048 0.037 200 200 0 57 \"GET https://www.example.com:443/ HTTP/1.1\" \"curl/7.46.0\" ECDHE-RSA-AES128-GCM-SHA256 "
    "TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    "\"Root=1-58337281-1d84f3d73c47ec4e58577259\" \"www.example.com\" "
    "\"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012\" 1 "
    "2018-07-02T22:22:48.364000Z \"authenticate,forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\" TID_1234abcd5678ef90";

}  // namespace

TEST_CASE("alb: https line maps every field of today's format") {
    std::string s = parse_ok(alb_https);
    CHECK(s.find(R"("@timestamp":"2018-07-02T22:23:00.186Z")") != std::string::npos);
    CHECK(s.find(R"("source":{"address":"192.168.131.39","ip":"192.168.131.39","port":2817})") != std::string::npos);
    CHECK(s.find(R"("tls":{"cipher":"ECDHE-RSA-AES128-GCM-SHA256","version":"1.2","version_protocol":"tls"})") != std::string::npos);
    CHECK(s.find(R"("url":{"original":"https://www.example.com:443/","scheme":"https","domain":"www.example.com","port":443,"path":"/"})") != std::string::npos);
    CHECK(s.find(R"("action_executed":["authenticate","forward"])") != std::string::npos);
    CHECK(s.find(R"("matched_rule_priority":"1")") != std::string::npos);
    CHECK(s.find(R"("destination":{"domain":"www.example.com"})") != std::string::npos);
    CHECK(s.find(R"("conn_trace_id":"TID_1234abcd5678ef90")") != std::string::npos);
    CHECK(s.find(R"("event":{"kind":"event")") != std::string::npos);
    CHECK(s.find(R"("outcome":"success")") != std::string::npos);
}

TEST_CASE("alb: unknown trailing fields are tolerated") {
    std::string line = std::string(alb_https) + " \"some-new-field\" 42 \"x y\"";
    std::string s = parse_ok(line);
    CHECK(s.find(R"("conn_trace_id":"TID_1234abcd5678ef90")") != std::string::npos);
}

TEST_CASE("alb: older lines that end early are kept") {
    std::string s = parse_ok(
        "http 2016-08-10T22:08:42.945958Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 "
        "0.001 0.000 404 404 34 366 \"GET http://www.example.com:80/x?a=1 HTTP/1.1\" \"curl/7.46.0\" - -");
    CHECK(s.find(R"("outcome":"failure")") != std::string::npos);
    CHECK(s.find(R"("query":"a=1")") != std::string::npos);
}

TEST_CASE("alb: a client that is not an IP stays in source.address with error.message") {
    std::string s = parse_ok(
        "http 2018-07-02T22:23:00.186641Z app/lb/1 not-an-ip:2817 - -1 -1 -1 503 - 34 366 \"GET http://x/ HTTP/1.1\" \"-\" - -");
    CHECK(s.find(R"("source":{"address":"not-an-ip","port":2817})") != std::string::npos);
    CHECK(s.find(R"("error":{"message":["elb: address is not an IP"]})") != std::string::npos);
}

TEST_CASE("alb: wrong-typed numeric fields are noted, not fatal") {
    std::string s = parse_ok(
        "http 2018-07-02T22:23:00.186641Z app/lb/1 10.0.0.9:1 - 0.1x -1 -1 2OO - 3a 366 \"GET http://x/ HTTP/1.1\" \"-\" - -");
    CHECK(s.find("processing time is not a number") != std::string::npos);
    CHECK(s.find("status code is not a number") != std::string::npos);
    CHECK(s.find("field is not a number") != std::string::npos);
}

TEST_CASE("elb: truncated lines, bad times and garbage are rejected with a reason") {
    CHECK(reject_reason("http 2018-07-02T22:23:00.186641Z app/lb/1 10.0.0.9:1 - 0.1") == "elb: truncated line");
    CHECK(reject_reason("http 2018-07-02T22:23:00.186641Z app/lb/1 10.0.0.9:1 - -1 -1 -1 200 - 1 2 \"GET http://x/ HTTP/1.1")
          == "elb: malformed request or user agent field");
    CHECK(reject_reason("http 2018-13-45T22:23:00.186641Z app/lb/1 10.0.0.9:1 - -1 -1 -1 200 - 1 2 \"GET / HTTP/1.1\" \"-\" - -")
          == "elb: invalid time");
    CHECK(reject_reason("garbage") == "elb: not an ELB access or connection log line");
    CHECK(reject_reason("") == "elb: not an ELB access or connection log line");
    CHECK(reject_reason("tls 2.0 2018-12-20T02:59:40 net/x/1 l 1.2.3.4:1") == "nlb: truncated line");
}

TEST_CASE("elb: classic ELB HTTP and TCP lines") {
    std::string http = parse_ok(
        "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "
        "\"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.38.0\" - -");
    CHECK(http.find(R"("protocol":"http")") != std::string::npos);
    CHECK(http.find(R"("type")") == std::string::npos);
    std::string tcp = parse_ok(
        "2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "
        "\"- - - \" \"-\" - -");
    CHECK(tcp.find(R"("protocol":"tcp")") != std::string::npos);
    CHECK(tcp.find(R"("source":{"address":"192.168.131.39","ip":"192.168.131.39","port":2817,"bytes":82})") != std::string::npos);
    CHECK(tcp.find(R"("destination":{"bytes":305})") != std::string::npos);
    CHECK(tcp.find(R"("category":["network"])") != std::string::npos);
}

TEST_CASE("elb: agreement with Elastic's elb_logs pipeline on its own test input") {
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped: ../shared/testdata is absent");
        return;
    }
    auto lines = test::read_lines(test::shared_testdata("ecs-pipeline/aws-elb_logs/test-alb.log"));
    for (const auto& l : lines) CHECK_MESSAGE(formats::looks_like_elb(l), l);
    auto f = test::compare_with_expected(lines, test::shared_testdata("ecs-pipeline/aws-elb_logs/test-alb.log-expected.json"),
                                         formats::parse_elb);
    MESSAGE(f.summary("elb"));
    for (const auto& n : f.notes) MESSAGE(n);
    CHECK(f.rejected == 0);
    CHECK(f.docs == lines.size());
    CHECK(f.ratio() >= 0.95);
}

TEST_CASE("alb: every example entry of the AWS guide parses (tests/data/formats/alb)") {
    auto lines = test::read_lines(std::string(SDS_TEST_DATA) + "/formats/alb/aws-docs-examples.log");
    REQUIRE(lines.size() == 7);
    for (const auto& l : lines) {
        CHECK(formats::looks_like_elb(l));
        std::string s = parse_ok(l);
        CHECK(s.find(R"("target_group":{"arn":"arn:aws:elasticloadbalancing:)") != std::string::npos);
        CHECK(s.find(R"("event":{"kind":"event","end":"2018-)") != std::string::npos);
        CHECK(s.find(R"("error":{"message")") == std::string::npos);
    }
    // The failed Lambda call: 502, no target, error reason.
    std::string lambda = parse_ok(lines[6]);
    CHECK(lambda.find(R"("error":{"reason":"LambdaInvalidResponse"})") != std::string::npos);
    CHECK(lambda.find(R"("outcome":"failure")") != std::string::npos);
    CHECK(lambda.find(R"("backend")") == std::string::npos);
    std::string h2 = parse_ok(lines[2]);
    CHECK(h2.find(R"("version":"2.0")") != std::string::npos);
    CHECK(h2.find(R"("redirect_url":"https://example.com:80/")") != std::string::npos);
}
