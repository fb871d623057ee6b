#include <doctest/doctest.h>

#include "sds/s3/client.hpp"
#include "sds/s3/listing.hpp"

using namespace sds;

namespace {
time::millis at(std::string_view iso) { return *time::parse_iso8601(iso); }
}  // namespace

TEST_CASE("partition_of: CloudTrail, ELB and Firehose layouts give their day or hour") {
    auto p = s3::partition_of("AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/05/x_20240105T0000Z.json.gz");
    REQUIRE(p);
    CHECK(p->level == 3);
    CHECK(p->begin == at("2024-01-05T00:00:00Z"));
    CHECK(p->end == at("2024-01-06T00:00:00Z"));
    p = s3::partition_of("stream/2024/12/31/23/f-2024-12-31-23-00.gz");
    REQUIRE(p);
    CHECK(p->level == 4);
    CHECK(p->begin == at("2024-12-31T23:00:00Z"));
    CHECK(p->end == at("2025-01-01T00:00:00Z"));
}

TEST_CASE("partition_of: prefixes name a year or a month; a month ends at the next one") {
    auto y = s3::partition_of("AWSLogs/1/vpcflowlogs/eu-west-1/2023/x");
    REQUIRE(y);
    CHECK(y->level == 1);
    CHECK(y->end == at("2024-01-01T00:00:00Z"));
    auto m = s3::partition_of("a/2024/12/x");
    REQUIRE(m);
    CHECK(m->level == 2);
    CHECK(m->end == at("2025-01-01T00:00:00Z"));
}

TEST_CASE("partition_of: digits that are not a date layout are no partition") {
    CHECK_FALSE(s3::partition_of("logs/2024.json"));               // a file name, not a folder
    CHECK_FALSE(s3::partition_of("logs/1234/99/file"));             // no valid month after the year
    CHECK_FALSE(s3::partition_of("AWSLogs/123456789012/file.gz"));  // account ids are not years
    CHECK_FALSE(s3::partition_of("nofolder"));
}

TEST_CASE("time_range: overlaps and contains with open ends") {
    s3::time_range r{at("2024-01-05T00:00:00Z"), at("2024-01-07T00:00:00Z")};
    CHECK(r.overlaps(at("2024-01-06T00:00:00Z"), at("2024-01-07T00:00:00Z")));
    CHECK_FALSE(r.overlaps(at("2024-01-07T00:00:00Z"), at("2024-01-08T00:00:00Z")));  // until is exclusive
    CHECK_FALSE(r.overlaps(at("2024-01-04T00:00:00Z"), at("2024-01-05T00:00:00Z")));
    CHECK(r.contains(at("2024-01-05T00:00:00Z"), at("2024-01-06T00:00:00Z")));
    CHECK_FALSE(r.contains(at("2024-01-01T00:00:00Z"), at("2024-02-01T00:00:00Z")));
    s3::time_range open{at("2024-01-05T00:00:00Z"), std::nullopt};
    CHECK(open.overlaps(at("2030-01-01T00:00:00Z"), at("2030-01-02T00:00:00Z")));
}

TEST_CASE("parse_time_arg: durations count back from now, RFC 3339 and bare dates are absolute") {
    const time::millis now = at("2024-06-01T12:00:00Z");
    CHECK(*s3::parse_time_arg("2h", now) == at("2024-06-01T10:00:00Z"));
    CHECK(*s3::parse_time_arg("7d", now) == at("2024-05-25T12:00:00Z"));
    CHECK(*s3::parse_time_arg("2024-01-02T03:04:05Z", now) == at("2024-01-02T03:04:05Z"));
    CHECK(*s3::parse_time_arg("2024-01-02", now) == at("2024-01-02T00:00:00Z"));
    auto bad = s3::parse_time_arg("soon", now);
    REQUIRE_FALSE(bad);
    CHECK(bad.err().code == exit_code::usage);
}

TEST_CASE("parse_s3_uri: bucket and prefix") {
    auto a = s3::parse_s3_uri("s3://bucket/a/b/");
    REQUIRE(a);
    CHECK(a->first == "bucket");
    CHECK(a->second == "a/b/");
    auto b = s3::parse_s3_uri("s3://bucket");
    REQUIRE(b);
    CHECK(b->second.empty());
    CHECK_FALSE(s3::parse_s3_uri("s3:///key"));
    CHECK_FALSE(s3::parse_s3_uri("http://x/y"));
}

TEST_CASE("describe_error: S3 error documents become 'http N Code: message'") {
    CHECK(s3::describe_error(403, "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>") ==
          "http 403 AccessDenied: Access Denied");
    CHECK(s3::describe_error(503, "") == "http 503");
    CHECK(s3::describe_error(500, "not xml <") == "http 500");
}
