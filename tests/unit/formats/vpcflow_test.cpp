#include <doctest/doctest.h>

#include <simdjson.h>

#include "conformance.hpp"
#include "sds/formats/vpcflow.hpp"

using namespace sds;

namespace {

std::string parse_ok(formats::vpcflow_parser& p, std::string_view line) {
    json::doc_builder d;
    bool header = false;
    auto st = p.parse(line, d, header);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.err().message));
    REQUIRE_FALSE(header);
    return d.str();
}

std::string reject_reason(formats::vpcflow_parser& p, std::string_view line) {
    json::doc_builder d;
    bool header = false;
    auto st = p.parse(line, d, header);
    return st.ok() ? std::string("accepted") : st.err().message;
}

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// Elastic's test files; test-with-message-field.log holds {"message":"<line>"} records, which
// sds-fetch produces and the driver unwraps: do the same here.
std::vector<std::string> elastic_lines(const std::string& file) {
    auto lines = test::read_lines(test::shared_testdata("ecs-pipeline/aws-vpcflow/" + file));
    for (auto& l : lines) {
        if (!l.starts_with("{")) continue;
        simdjson::dom::parser p;
        l = std::string(std::string_view(p.parse(l)["message"].get_string()));
    }
    return lines;
}

}  // namespace

TEST_CASE("vpcflow: v2 default record maps to ECS and aws.vpcflow") {
    formats::vpcflow_parser p;
    std::string s = parse_ok(p, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK");
    CHECK(has(s, R"("@timestamp":"2014-12-14T04:07:50.000Z")"));
    CHECK(has(s, R"("start":"2014-12-14T04:06:50.000Z")"));
    CHECK(has(s, R"("source":{"address":"172.31.16.139","ip":"172.31.16.139","port":20641,"packets":20,"bytes":4249})"));
    CHECK(has(s, R"("destination":{"address":"172.31.16.21","ip":"172.31.16.21","port":22})"));
    CHECK(has(s, R"("network":{"iana_number":"6","transport":"tcp","packets":20,"bytes":4249,"type":"ipv4","community_id":"1:)"));
    CHECK(has(s, R"("outcome":"success")"));
    CHECK(has(s, R"("account":{"id":"123456789010"})"));
    CHECK(has(s, R"("related":{"ip":["172.31.16.139","172.31.16.21"]})"));
}

TEST_CASE("vpcflow: community id agrees with the spec for ICMP and mixed address families") {
    // Values from Elastic's expected documents (test-extra-samples, test-tgw-samples).
    CHECK(formats::community_id("89.160.20.156", "172.31.16.139", 1, 0, 0) == "1:cttDCHp3UNR8SFNTOgVYpAceHf4=");
    CHECK(formats::community_id("2a02:cf40::", "175.16.199.0", 17, 20385, 3389) == "1:4kLPPuDkZVO8vFsz66QpgDNHGYU=");
    CHECK(formats::community_id("x", "175.16.199.0", 17, 1, 2).empty());
}

TEST_CASE("vpcflow: NODATA and SKIPDATA records keep only what they have") {
    formats::vpcflow_parser p;
    std::string s = parse_ok(p, "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA");
    CHECK(has(s, R"("log_status":"SKIPDATA")"));
    CHECK_FALSE(has(s, R"("source")"));
    CHECK_FALSE(has(s, R"("outcome")"));
    CHECK_FALSE(has(s, R"("action")"));
}

TEST_CASE("vpcflow: a header line is adopted and reported, not emitted") {
    formats::vpcflow_parser p;
    json::doc_builder d;
    bool header = false;
    CHECK(formats::looks_like_vpcflow("version srcaddr dstaddr end"));
    REQUIRE(p.parse("version srcaddr dstaddr end", d, header).ok());
    CHECK(header);
    CHECK(d.str() == "{}");
    std::string s = parse_ok(p, "5 10.0.0.1 10.0.0.2 1616729349");
    CHECK(has(s, R"("source":{"address":"10.0.0.1","ip":"10.0.0.1"})"));
    CHECK(has(s, R"("@timestamp":"2021-03-26T03:29:09.000Z")"));
    CHECK(reject_reason(p, "5 10.0.0.1 10.0.0.2") == "vpcflow: 3 fields where the layout has 4");
}

TEST_CASE("vpcflow: set_fields (--vpcflow-fields) wins over the field count and accepts ${…}") {
    formats::vpcflow_parser p;
    REQUIRE(p.set_fields("${version} ${vpc-id} ${srcaddr} ${start} ${end} ${action} ${tcp-flags}").ok());
    std::string s = parse_ok(p, "4 vpc-1 10.1.1.1 1566848875 1566848933 REJECT 19");
    CHECK(has(s, R"("vpc_id":"vpc-1")"));
    CHECK(has(s, R"("tcp_flags_array":["fin","syn","ack"])"));
    CHECK(has(s, R"("outcome":"failure")"));
    CHECK_FALSE(p.set_fields("version no-such-field").ok());
}

TEST_CASE("vpcflow: wrong-typed fields are noted; bad times, field counts and garbage are rejected") {
    formats::vpcflow_parser p;
    std::string s = parse_ok(p, "2 1 eni-1 not-an-ip 10.0.0.2 http 22 six x 4249 1418530010 1418530070 ACCEPT OK");
    CHECK(has(s, R"("source":{"address":"not-an-ip","bytes":4249})"));
    CHECK(has(s, "srcaddr is not an IP"));
    CHECK(has(s, "srcport is not a port number"));
    CHECK(has(s, "protocol is not a number"));
    CHECK(has(s, "packets or bytes is not a number"));
    CHECK(reject_reason(p, "2 1 eni-1 - - - - - - - soon 1418530070 - NODATA") == "vpcflow: start is not epoch seconds");
    CHECK(reject_reason(p, "2 1 eni-1 - - - - - - - - - - NODATA") == "vpcflow: no start or end time");
    CHECK(reject_reason(p, "2 123456789010 eni-1235b8ca123456789 172.31.16.139") ==
          "vpcflow: 4 fields match no known layout (give --vpcflow-fields or a header line)");
    CHECK(reject_reason(p, "") == "vpcflow: 0 fields match no known layout (give --vpcflow-fields or a header line)");
    CHECK_FALSE(formats::looks_like_vpcflow("garbage"));
}

TEST_CASE("vpcflow: every example of the AWS guide parses, custom formats via their header lines; records without a time are rejected") {
    auto lines = test::read_lines(std::string(SDS_TEST_DATA) + "/formats/vpcflow/aws-docs-examples.log");
    REQUIRE(lines.size() == 24);
    formats::vpcflow_parser p;
    size_t headers = 0, records = 0, rejected = 0;
    for (const auto& l : lines) {
        CHECK_MESSAGE(formats::looks_like_vpcflow(l), l);
        json::doc_builder d;
        bool header = false;
        auto st = p.parse(l, d, header);
        if (!st) {
            // The transit-gateway example's format has neither start nor end: no @timestamp.
            CHECK(st.err().message == "vpcflow: no start or end time");
            ++rejected;
        } else if (header) ++headers;
        else {
            ++records;
            CHECK_FALSE(has(d.str(), "error"));
        }
    }
    CHECK(headers == 3);
    CHECK(records == 17);
    CHECK(rejected == 4);
    // The last record is v5 with flow-direction and traffic-path.
    formats::vpcflow_parser q;
    json::doc_builder d;
    bool header = false;
    REQUIRE(q.parse(lines[21], d, header).ok());
    std::string s = parse_ok(q, lines[23]);
    CHECK(has(s, R"("direction":"egress")"));
    CHECK(has(s, R"("traffic_path":"8")"));
    CHECK(has(s, R"("region":"ap-southeast-2","availability_zone":"apse2-az3")"));
    CHECK(has(s, R"("pkt_dst_service":"S3")"));
}

TEST_CASE("vpcflow: agreement with Elastic's vpcflow pipeline on its own test inputs") {
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped: ../shared/testdata is absent");
        return;
    }
    for (std::string file : {"test-extra-samples.log", "test-tgw-samples.log", "test-v5-all-fields.log", "test-with-message-field.log"}) {
        auto lines = elastic_lines(file);
        for (const auto& l : lines) CHECK_MESSAGE(formats::looks_like_vpcflow(l), l);
        formats::vpcflow_parser p;
        auto parse = [&p](std::string_view l, json::doc_builder& d) {
            bool header = false;
            return p.parse(l, d, header);
        };
        auto f = test::compare_with_expected(lines, test::shared_testdata("ecs-pipeline/aws-vpcflow/" + file + "-expected.json"), parse);
        MESSAGE(f.summary("vpcflow " + file));
        for (const auto& n : f.notes) MESSAGE(n);
        CHECK(f.rejected == 0);
        CHECK(f.docs == lines.size());
        CHECK(f.ratio() >= 0.95);
    }
}
