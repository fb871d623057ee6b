// json::patch: edits applied to an existing record without re-serialising what they do not
// touch.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>

#include "sds/json/patch.hpp"

using namespace sds;

namespace {

std::string patched(const json::patch& p, std::string_view rec) {
    std::string out;
    p.apply(rec, out);
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    INFO("patched record: " << out);
    CHECK_FALSE(parser.parse(out).get(e));
    return out;
}

}  // namespace

TEST_CASE("patch: adds a nested field to an existing object, siblings byte-identical") {
    json::patch p;
    p.set_raw("source.geo", R"({"country_iso_code":"SE"})");
    std::string rec = R"({"a" : 1.50, "source":{ "ip" : "89.160.20.128" , "port":443},"z":[ 1 ,2]})";
    CHECK(patched(p, rec) ==
          R"({"a" : 1.50,"source":{"ip" : "89.160.20.128","port":443,"geo":{"country_iso_code":"SE"}},"z":[ 1 ,2]})");
}

TEST_CASE("patch: creates missing parents in order, merging edits that share them") {
    json::patch p;
    p.set_string("sds.anomaly.entity", "alice");
    p.set_raw("sds.anomaly.score", "0.93");
    p.set_raw("event.kind", "\"alert\"");
    CHECK(patched(p, R"({"message":"x"})") ==
          R"({"message":"x","sds":{"anomaly":{"entity":"alice","score":0.93}},"event":{"kind":"alert"}})");
}

TEST_CASE("patch: replaces an existing value of any type, including an object") {
    json::patch p;
    p.set_raw("a", "2");
    p.set_raw("b", "\"new\"");
    p.set_raw("c.d", "true");
    CHECK(patched(p, R"({"a":{"deep":[1,{"x":"}"}]},"b":null,"c":{"d":[1,2],"e":"keep"}})") ==
          R"({"a":2,"b":"new","c":{"d":true,"e":"keep"}})");
}

TEST_CASE("patch: a scalar in the way of a deeper path becomes an object") {
    json::patch p;
    p.set_raw("source.geo.city_name", "\"Linköping\"");
    CHECK(patched(p, R"({"source":"10.0.0.1"})") == R"({"source":{"geo":{"city_name":"Linköping"}}})");
}

TEST_CASE("patch: appends to an existing array, creates a missing one, replaces a non-array") {
    json::patch p;
    p.append_raw("threat.enrichments", R"({"indicator":{"ip":"1.2.3.4"}})");
    p.append_raw("tags", "\"b\"");
    p.append_raw("tags", "\"c\"");
    p.append_raw("empty", "1");
    p.append_raw("scalar", "2");
    CHECK(patched(p, R"({"tags":["a"],"empty":[ ],"scalar":"x"})") ==
          R"({"tags":["a","b","c"],"empty":[ 1],"scalar":[2],"threat":{"enrichments":[{"indicator":{"ip":"1.2.3.4"}}]}})");
}

TEST_CASE("patch: set then append on a new path keeps the set array") {
    json::patch p;
    p.set_raw("related.ip", R"(["10.0.0.1"])");
    p.append_raw("related.ip", R"("10.0.0.2")");
    CHECK(patched(p, R"({})") == R"({"related":{"ip":["10.0.0.1","10.0.0.2"]}})");
}

TEST_CASE("patch: set of an object then a field under it on a new path keeps both") {
    json::patch p;
    p.set_raw("geo", R"({"a":1})");
    p.set_raw("geo.b", "2");
    CHECK(patched(p, R"({})") == R"({"geo":{"a":1,"b":2}})");
}

TEST_CASE("patch: empty object, whitespace around it, and an empty patch") {
    json::patch p;
    CHECK(patched(p, R"({"a":1})") == R"({"a":1})");
    CHECK(patched(p, "{}") == "{}");
    p.set_raw("x", "1");
    CHECK(patched(p, "{}") == R"({"x":1})");
    CHECK(patched(p, " {  } ") == R"({"x":1})");
    CHECK(patched(p, "{\n\"a\" : 1 \n}") == "{\"a\" : 1,\"x\":1}");
}

TEST_CASE("patch: unicode and escaped keys are matched by their text") {
    json::patch p;
    p.set_raw("ünï.κλειδί", "1");
    p.set_string("msg", "tab\there \xff");
    CHECK(patched(p, R"({"ünï":{"old":0},"q\"k":"v"})") ==
          "{\"ünï\":{\"old\":0,\"κλειδί\":1},\"q\\\"k\":\"v\",\"msg\":\"tab\\there \xef\xbf\xbd\"}");
}

TEST_CASE("patch: strings with brackets, quotes and escapes are skipped correctly") {
    json::patch p;
    p.set_raw("after", "1");
    std::string rec = R"({"s":"}]\\\"{[","t":["]",{"u":"\\"}],"n":-1.5e3,"b":false})";
    CHECK(patched(p, rec) == rec.substr(0, rec.size() - 1) + R"(,"after":1})");
}

TEST_CASE("patch: clear() resets edits for reuse across records") {
    json::patch p;
    p.set_raw("a", "1");
    CHECK_FALSE(p.empty());
    p.clear();
    CHECK(p.empty());
    p.set_raw("b", "2");
    CHECK(patched(p, "{}") == R"({"b":2})");
}

TEST_CASE("patch: with the parsed record, the same JSON as from the text alone") {
    const char* records[] = {
        R"({"a":1,"b":{"c":2}})", R"({})", R"( { "a" : [1, 2] } )", "{\"message\":\"x\"}\n",
        R"({"event":{"kind":"event","x":1},"sds":{"other":true}})", R"({"rule":"not an object"})",
    };
    json::patch p;
    p.set_raw("sds.anomaly.score", "1.5");
    p.set_with("sds.anomaly.reasons", [](std::string& o) { o += R"(["address"])"; });
    p.set_string("event.kind", "alert");
    p.append_raw("sds.alerts", R"({"id":1})");
    p.set_raw("rule.id", R"("r1")");
    simdjson::dom::parser parser;
    for (const char* rec : records) {
        INFO(rec);
        std::string text(rec);
        std::string a = patched(p, text), b;
        p.apply(text, parser.parse(text).value(), b);
        simdjson::dom::parser pa, pb;
        CHECK(simdjson::minify(pa.parse(a).value()) == simdjson::minify(pb.parse(b).value()));
    }
    // Fast path (no edited member present): the text up to the closing brace, then the members.
    std::string out;
    std::string rec = R"({"a" : 1 })";
    p.apply(rec, parser.parse(rec).value(), out);
    CHECK(out == R"({"a" : 1,"sds":{"anomaly":{"score":1.5,"reasons":["address"]},"alerts":[{"id":1}]},"event":{"kind":"alert"},"rule":{"id":"r1"}})");
}

TEST_CASE("patch: reused across records, later records see only their own edits") {
    json::patch p;
    std::string out;
    for (int i = 0; i < 100; ++i) {
        p.clear();
        p.set_with("n", [&](std::string& o) { o += std::to_string(i); });
        if (i % 2) p.set_string("odd.s", "yes");
        out.clear();
        p.apply(R"({"odd":{"k":0}})", out);
        if (i % 2) CHECK(out == "{\"odd\":{\"k\":0,\"s\":\"yes\"},\"n\":" + std::to_string(i) + "}");
        else CHECK(out == "{\"odd\":{\"k\":0},\"n\":" + std::to_string(i) + "}");
    }
}

TEST_CASE("patch: new members (set_new) are written after the record as set_raw writes them") {
    const char* records[] = {R"({"a":1,"b":{"c":2}})", R"({})", R"( { "a" : [1, 2] } )", "{\"message\":\"x\"}\n"};
    json::patch fresh, raw;
    fresh.set_new("event", R"({"kind":"alert"})");
    fresh.set_new_with("sds", [](std::string& o) { o += R"({"alerts":[1]})"; });
    raw.set_raw("event", R"({"kind":"alert"})");
    raw.set_with("sds", [](std::string& o) { o += R"({"alerts":[1]})"; });
    simdjson::dom::parser parser;
    for (const char* rec : records) {
        INFO(rec);
        std::string text(rec), a, b;
        fresh.apply(text, parser.parse(text).value(), a);
        raw.apply(text, parser.parse(text).value(), b);
        CHECK(a == b);
    }
    std::string out, rec = R"({"a" : 1 })";
    fresh.apply(rec, parser.parse(rec).value(), out);
    CHECK(out == R"({"a" : 1,"event":{"kind":"alert"},"sds":{"alerts":[1]}})");
    // Mixed with an ordinary edit the general path runs: same JSON.
    fresh.set_raw("event.severity", "3");
    raw.set_raw("event.severity", "3");
    std::string c, d, r2 = R"({"a":1})";
    fresh.apply(r2, parser.parse(r2).value(), c);
    raw.apply(r2, parser.parse(r2).value(), d);
    CHECK(c == d);
    CHECK(c == R"({"a":1,"event":{"kind":"alert","severity":3},"sds":{"alerts":[1]}})");
}
