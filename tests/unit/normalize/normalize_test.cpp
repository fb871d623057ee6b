#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>

#include "sds/normalize/normalize.hpp"
#include "sds/normalize/registry.hpp"

using sds::normalize::normalizer;

namespace {

std::unique_ptr<normalizer> make(std::string format = "auto", bool keep = false) {
    sds::normalize::options o;
    o.format = std::move(format);
    o.keep_original = keep;
    o.ingested_time = "2025-01-01T00:00:00Z";
    auto n = normalizer::make(o);
    REQUIRE(n);
    return std::move(*n);
}

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& s) {
    simdjson::dom::element e;
    REQUIRE(!p.parse(s).get(e));
    return e;
}

const char* trail =
    R"({"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com",)"
    R"("eventName":"ConsoleLogin","sourceIPAddress":"198.51.100.7","responseElements":{"ConsoleLogin":"Failure"}})";

}  // namespace

TEST_CASE("normalize: event ids derived from provenance and content never change") {
    // Pinned forever: re-processing raw data with any later version must yield these ids.
    CHECK(normalizer::provenance_id("s3://trail-bucket/AWSLogs/x.json.gz", 7) == normalizer::provenance_id("s3://trail-bucket/AWSLogs/x.json.gz", 7));
    CHECK(normalizer::provenance_id("s3://b/k", 1) == "a2095785c40401e9f2bbe378750c3a13");
    CHECK(normalizer::content_id("10.0.0.1 - - [x]") == "9311067db872d868381bd10cb777a87d");
    CHECK(normalizer::provenance_id("s3://b/k", 1) != normalizer::provenance_id("s3://b/k", 2));
    CHECK(normalizer::provenance_id("s3://b/k1", 1) != normalizer::provenance_id("s3://b/k", 11));
}

TEST_CASE("normalize: @source becomes log.file.path/log.offset and is not hashed into content") {
    auto n = make();
    std::string a, b;
    std::string rec = R"({"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com"})";
    std::string annotated = R"({"@source":{"uri":"s3://b/k","line":1},)" + rec.substr(1);
    REQUIRE(n->process_line(annotated, a));
    REQUIRE(n->process_line(annotated, b));
    CHECK(a == b);
    simdjson::dom::parser p;
    auto doc = parse(p, a);
    CHECK(std::string_view(doc["log"]["file"]["path"]) == "s3://b/k");
    CHECK(int64_t(doc["log"]["offset"]) == 1);
    CHECK(std::string_view(doc["event"]["id"]) == normalizer::provenance_id("s3://b/k", 1));
    std::string plain;
    REQUIRE(n->process_line(rec, plain));
    auto doc2 = parse(p, plain);
    CHECK(std::string_view(doc2["event"]["id"]) == normalizer::content_id(rec));
    CHECK(doc2["log"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("cloudtrail: ConsoleLogin outcome comes from responseElements, source.ip from sourceIPAddress") {
    auto n = make();
    std::string out;
    REQUIRE(n->process_line(trail, out));
    simdjson::dom::parser p;
    auto doc = parse(p, out);
    CHECK(std::string_view(doc["@timestamp"]) == "2024-03-01T10:00:00.000Z");
    CHECK(std::string_view(doc["event"]["outcome"]) == "failure");
    CHECK(std::string_view(doc["event"]["dataset"]) == "aws.cloudtrail");
    CHECK(std::string_view(doc["event"]["ingested"]) == "2025-01-01T00:00:00.000Z");
    CHECK(std::string_view(doc["source"]["ip"]) == "198.51.100.7");
    CHECK(std::string_view(doc["ecs"]["version"]) == "8.11.0");
    CHECK(doc["event"]["original"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("cloudtrail: a record without eventTime is rejected with the reason") {
    auto n = make();
    std::string out;
    auto st = n->process_line(R"({"eventVersion":"1.08","eventSource":"iam.amazonaws.com"})", out);
    REQUIRE(!st);
    CHECK(st.err().message == "cloudtrail: no eventTime");
    CHECK(out.empty());
}

TEST_CASE("normalize: message-wrapped CloudTrail JSON is unwrapped; event.original is the inner record") {
    auto n = make("auto", true);
    std::string wrapped = R"({"message":")";
    for (char c : std::string(trail)) {
        if (c == '"') wrapped += '\\';
        wrapped += c;
    }
    wrapped += "\"}";
    std::string out;
    REQUIRE(n->process_line(wrapped, out));
    simdjson::dom::parser p;
    auto doc = parse(p, out);
    CHECK(std::string_view(doc["event"]["original"]) == trail);
    CHECK(std::string_view(doc["event"]["action"]) == "ConsoleLogin");
}

TEST_CASE("normalize: unknown records and bad options") {
    auto n = make();
    std::string out;
    auto st = n->process_line(R"({"hello":"world"})", out);
    REQUIRE(!st);
    CHECK(st.err().message == "no recognised format");
    sds::normalize::options o;
    o.format = "nope";
    CHECK(!normalizer::make(o));
    o.format = "auto";
    o.ingested_time = "soon";
    CHECK(!normalizer::make(o));
}

TEST_CASE("normalize: one unusable field keeps the record with error.message") {
    auto n = make();
    std::string out;
    REQUIRE(n->process_line(R"({"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"x","sourceIPAddress":5})", out));
    simdjson::dom::parser p;
    auto doc = parse(p, out);
    CHECK(doc["error"]["message"].is_array());
}
