// json::doc_builder: new documents from dotted paths.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <string>

#include "sds/json/builder.hpp"

using namespace sds;

TEST_CASE("builder: dotted paths nest, members keep first-set order") {
    json::doc_builder b;
    b.set_string("source.ip", "10.0.0.1");
    b.set_string("@timestamp", "2024-01-01T00:00:00.000Z");
    b.set_int("source.port", 443);
    b.set_uint("event.sequence", 18446744073709551615ull);
    b.set_bool("event.ok", true);
    b.set_null("x");
    b.set_double("score", 0.25);
    b.set_int("source.port", 8443);  // replaced in place, order kept
    CHECK(b.str() ==
          R"({"source":{"ip":"10.0.0.1","port":8443},"@timestamp":"2024-01-01T00:00:00.000Z",)"
          R"("event":{"sequence":18446744073709551615,"ok":true},"x":null,"score":0.25})");
}

TEST_CASE("builder: strings are escaped and invalid UTF-8 becomes U+FFFD") {
    json::doc_builder b;
    b.set_string("m", std::string("q\"b\\n\n\t\x01 \xc3\xa9 \xff \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82"));
    std::string s = b.str();
    CHECK(s == "{\"m\":\"q\\\"b\\\\n\\n\\t\\u0001 \xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\"}");
    simdjson::dom::parser p;
    simdjson::dom::element e;
    CHECK_FALSE(p.parse(s).get(e));
}

TEST_CASE("builder: keys are escaped too") {
    json::doc_builder b;
    b.set_int("a\"b", 1);
    CHECK(b.str() == R"({"a\"b":1})");
}

TEST_CASE("builder: arrays, unique push, raw values, objects") {
    json::doc_builder b;
    b.push_string("related.ip", "1.1.1.1", true);
    b.push_string("related.ip", "2.2.2.2", true);
    b.push_string("related.ip", "1.1.1.1", true);
    b.push_int("n", -3);
    b.push_raw("r", R"({"k":[1]})");
    b.set_raw("raw", "[true,false]");
    b.set_object("empty.obj");
    CHECK(b.str() ==
          R"({"related":{"ip":["1.1.1.1","2.2.2.2"]},"n":[-3],"r":[{"k":[1]}],"raw":[true,false],"empty":{"obj":{}}})");
}

TEST_CASE("builder: a scalar in the way of a deeper path becomes an object; has/get/remove") {
    json::doc_builder b;
    b.set_string("a", "x");
    b.set_int("a.b", 1);
    CHECK(b.str() == R"({"a":{"b":1}})");
    CHECK(b.has("a.b"));
    CHECK_FALSE(b.has("a.c"));
    b.set_string("s.t", "v");
    CHECK(b.get_string("s.t") == std::optional<std::string_view>("v"));
    CHECK_FALSE(b.get_string("a.b"));
    b.remove("a.b");
    CHECK(b.str() == R"({"a":{},"s":{"t":"v"}})");
    b.set_int("a.b", 2);  // re-added after removal
    CHECK(b.str() == R"({"a":{"b":2},"s":{"t":"v"}})");
}

TEST_CASE("builder: non-finite doubles are null; integral doubles print without fraction") {
    json::doc_builder b;
    b.set_double("nan", std::nan(""));
    b.set_double("inf", std::numeric_limits<double>::infinity());
    b.set_double("two", 2.0);
    b.set_double("big", 1e20);
    CHECK(b.str() == R"({"nan":null,"inf":null,"two":2,"big":1e+20})");
}

TEST_CASE("builder: clear() reuses the builder for the next document") {
    json::doc_builder b;
    b.set_int("a", 1);
    b.clear();
    CHECK(b.str() == "{}");
    b.set_int("b", 2);
    CHECK(b.str() == R"({"b":2})");
}
