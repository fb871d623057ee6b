#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sds/s3/sqs.hpp"
#include "sds/s3/state.hpp"

using namespace sds;

TEST_CASE("parse_notification: raw S3 event with a URL-encoded key") {
    auto objs = s3::parse_notification(
        R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},)"
        R"("object":{"key":"AWSLogs/a+b%2Bc.json.gz","size":42,"eTag":"abc"}}}]})");
    REQUIRE(objs);
    REQUIRE(objs->size() == 1);
    CHECK((*objs)[0].bucket == "b");
    CHECK((*objs)[0].key == "AWSLogs/a b+c.json.gz");
    CHECK((*objs)[0].etag == "\"abc\"");
    CHECK((*objs)[0].size == 42);
}

TEST_CASE("parse_notification: SNS-wrapped and EventBridge events") {
    auto sns = s3::parse_notification(
        R"({"Type":"Notification","Message":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:CompleteMultipartUpload\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}"})");
    REQUIRE(sns);
    REQUIRE(sns->size() == 1);
    CHECK((*sns)[0].key == "k");
    auto eb = s3::parse_notification(
        R"({"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b2"},"object":{"key":"x/y z","size":7,"etag":"e"}}})");
    REQUIRE(eb);
    REQUIRE(eb->size() == 1);
    CHECK((*eb)[0].bucket == "b2");
    CHECK((*eb)[0].key == "x/y z");
}

TEST_CASE("parse_notification: test events and removals name no object; other text is an error") {
    auto t = s3::parse_notification(R"({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"})");
    REQUIRE(t);
    CHECK(t->empty());
    auto rm = s3::parse_notification(
        R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]})");
    REQUIRE(rm);
    CHECK(rm->empty());
    CHECK_FALSE(s3::parse_notification("hello"));
    CHECK_FALSE(s3::parse_notification(R"({"foo":1})"));
    CHECK(s3::parse_notification("[1]").err().code == exit_code::rejected);
}

TEST_CASE("region_of_queue_url: AWS queue URLs name their region") {
    CHECK(s3::region_of_queue_url("https://sqs.eu-west-1.amazonaws.com/123/q") == "eu-west-1");
    CHECK(s3::region_of_queue_url("http://127.0.0.1:9324/123/q").empty());
}

TEST_CASE("state_file: round trip; ETag change means not done; no temporary left") {
    auto dir = std::filesystem::temp_directory_path() / ("sds-state-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / "state").string();
    {
        s3::state_file st;
        REQUIRE(st.open(path));  // missing: empty
        CHECK(st.size() == 0);
        st.mark("s3://b/k1", "\"e1\"");
        st.mark("s3://b/k\"2", "\"e2\"");
        REQUIRE(st.save());
    }
    s3::state_file st;
    REQUIRE(st.open(path));
    CHECK(st.size() == 2);
    CHECK(st.done("s3://b/k1", "\"e1\""));
    CHECK(st.done("s3://b/k\"2", "\"e2\""));
    CHECK_FALSE(st.done("s3://b/k1", "\"other\""));
    CHECK_FALSE(st.done("s3://b/k3", "\"e1\""));
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
    std::ofstream(path) << "garbage\n";
    s3::state_file bad;
    auto r = bad.open(path);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == exit_code::usage);
    std::filesystem::remove_all(dir);
}
