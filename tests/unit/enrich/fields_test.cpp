#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sds/enrich/fields.hpp"
#include "sds/enrich/indicator.hpp"
#include "sds/json/path.hpp"

using namespace sds::enrich;

namespace {

// The finder's answer and json::find's, as the raw JSON of the value ("" = not found).
std::string text_of(std::optional<simdjson::dom::element> e) { return e ? simdjson::minify(*e) : std::string(); }

}  // namespace

TEST_CASE("fields: one walk finds what json::find finds, however the record spells the path") {
    const std::vector<std::string> paths = {"source.ip", "destination.ip", "related.ip", "dns.question.name",
                                            "url.full", "file.hash.md5", "a.b.c", "a.b", "x"};
    const char* records[] = {
        R"({"source":{"ip":"1.2.3.4"},"destination":{"ip":"5.6.7.8","port":1}})",
        R"({"source.ip":"1.2.3.4","dns":{"question.name":"a.example"}})",
        R"({"dns.question":{"name":"b.example"},"url":{"full":"http://x/"}})",
        R"({"a":{"b":{"c":1}},"a.b":{"c":2}})",           // two spellings: json::find's order
        R"({"a.b":{"c":2},"a":{"b":{"c":1}}})",
        R"({"a":{"b":1},"a":{"b":2}})",                   // repeated key: json::find reads the first
        R"({"a":1,"a":{"b":{"c":3}}})",
        R"({"a":{"x":1},"a":{"b":{"c":3}}})",
        R"({"source":"1.2.3.4","related":{"ip":["1.1.1.1","2.2.2.2"]}})",
        R"({"file":{"hash":{"md5":5}},"x":[1,2],"source":{"ip":null}})",
        R"({"a":{"b.c":7},"a.b.c":8})",
        R"({"a..b":1,"a.":2,".x":3,"x.":4,"":5})",
        R"([1,2])",
        R"("text")",
        R"({})",
    };
    field_finder f;
    std::vector<size_t> ids;
    for (const auto& p : paths) ids.push_back(f.add(p));
    CHECK(f.add("source.ip") == ids[0]);
    simdjson::dom::parser parser;
    for (const char* r : records) {
        simdjson::dom::element doc;
        REQUIRE(!parser.parse(std::string_view(r)).get(doc));
        f.scan(doc);
        for (size_t i = 0; i < paths.size(); ++i) {
            INFO(r, " ", paths[i]);
            CHECK(text_of(f.get(ids[i])) == text_of(sds::json::find(doc, paths[i])));
        }
    }
}

TEST_CASE("fields: answers from one record do not leak into the next") {
    field_finder f;
    size_t id = f.add("source.ip");
    simdjson::dom::parser p1, p2;
    simdjson::dom::element a, b;
    REQUIRE(!p1.parse(std::string_view(R"({"source":{"ip":"1.2.3.4"}})")).get(a));
    REQUIRE(!p2.parse(std::string_view(R"({"destination":{"ip":"1.2.3.4"}})")).get(b));
    f.scan(a);
    CHECK(f.get(id));
    f.scan(b);
    CHECK_FALSE(f.get(id));
}

TEST_CASE("indicator: parse_address agrees with ip::parse") {
    const char* inputs[] = {"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
                            "1.2.3.04", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "1234.1.1.1", "1.2.3.", ".1.2.3",
                            "192.168.001.1", "10.0.0.255", "::1", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0",
                            "", "a.b.c.d", "1.2.3.4/24", "999.999.999.999", "1.2.3.4x"};
    for (const char* s : inputs) {
        INFO(s);
        auto a = parse_address(s);
        auto b = sds::ip::parse(s);
        REQUIRE(a.has_value() == b.has_value());
        if (a) CHECK(*a == *b);
    }
}
