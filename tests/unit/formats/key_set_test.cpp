// formats::key_set / key_values: one-pass reading of an object's members by perfect hash.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <array>
#include <string>
#include <string_view>

#include "sds/formats/key_set.hpp"

using namespace sds;

namespace {
// Keys that share lengths, prefixes and suffixes (eventName/eventTime/eventType, ...).
constexpr formats::key_set<8> keys{std::array<std::string_view, 8>{
    "eventName", "eventTime", "eventType", "eventID", "a", "", "requestParameters", "requestParameterz"}};
}  // namespace

TEST_CASE("key_set: every key is found at its index; near misses are not") {
    CHECK(keys.find("eventName") == 0);
    CHECK(keys.find("eventTime") == 1);
    CHECK(keys.find("eventType") == 2);
    CHECK(keys.find("eventID") == 3);
    CHECK(keys.find("a") == 4);
    CHECK(keys.find("") == 5);
    CHECK(keys.find("requestParameters") == 6);
    CHECK(keys.find("requestParameterz") == 7);
    static_assert(keys["eventType"] == 2);
    for (std::string_view miss : {"eventNamE", "eventNam", "eventNamex", "b", "eventid", "requestParametersX",
                                  "requestparameters", "EventTime", "xventTime"})
        CHECK(keys.find(miss) == formats::key_set<8>::none);
}

TEST_CASE("key_values: the first occurrence of a key wins, as at_key finds it; null, absent and wrong types") {
    simdjson::dom::parser parser;
    std::string json =
        R"({"eventName":"First","other":1,"eventName":"Second","eventTime":null,"eventType":{"x":1},"eventID":7})";
    simdjson::dom::object o = parser.parse(json).get_object().value();
    formats::key_values<8> kv;
    kv.read(keys, o);
    CHECK(kv.str(keys["eventName"]) == "First");
    CHECK(kv.str(keys["eventName"]) == std::string_view(o.at_key("eventName").get_string().value()));
    CHECK(kv.has(keys["eventTime"]));
    simdjson::dom::element e;
    CHECK_FALSE(kv.val(keys["eventTime"], e));  // null
    CHECK(kv.str(keys["eventTime"]).empty());
    simdjson::dom::object sub;
    CHECK(kv.obj(keys["eventType"], sub));
    CHECK(kv.str(keys["eventType"]).empty());  // not a string
    CHECK(kv.str(keys["eventID"]).empty());
    CHECK(kv.val(keys["eventID"], e));
    CHECK_FALSE(kv.has(keys["a"]));
    CHECK_FALSE(kv.obj(keys["a"], sub));
}
