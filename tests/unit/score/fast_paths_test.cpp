// The scoring fast paths against the general code they stand in for.
// The scoring writer (splice.hpp) against json::patch: whatever it writes must be byte for byte
// what json::patch writes for the same two edits, and it must hand every other shape back.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "sds/core/ip.hpp"
#include "sds/json/patch.hpp"
#include "sds/json/path.hpp"
#include "sds/score/features.hpp"
#include "sds/score/splice.hpp"

using namespace sds;

namespace {

constexpr std::string_view anomaly = R"({"score":1.5,"entity":"alice","reasons":["address"],"flagged":false})";
constexpr std::string_view risk = "18.24";

std::string with_patch(simdjson::dom::parser& parser, const std::string& record) {
    simdjson::dom::element doc = parser.parse(record).value();
    json::patch edits;
    edits.set_raw("sds.anomaly", anomaly);
    edits.set_raw("event.risk_score", risk);
    std::string out = "prefix|";
    edits.apply(record, doc, out);
    return out;
}

// The splice's output (after "prefix|", which it must keep), or "declined" with the prefix intact.
std::string with_splice(simdjson::dom::parser& parser, const std::string& record) {
    simdjson::dom::element doc = parser.parse(record).value();
    // What the record has, from the parsed record and from its listed members, must agree.
    std::vector<score::member_ref> members;
    simdjson::dom::object obj;
    bool object = !doc.get_object().get(obj);
    if (object)
        for (auto m : obj) members.push_back(score::member_ref{m.key, m.value});
    auto a = score::present(doc), b = score::present(object, members);
    CHECK((a.object == b.object && a.sds == b.sds && a.event == b.event));
    std::string out = "prefix|";
    bool done = score::splice_anomaly(record, doc, out, [](std::string& o) { o.append(anomaly); },
                                      [](std::string& o) { o.append(risk); });
    if (!done) return out == "prefix|" ? "declined" : "declined but wrote " + out;
    return out;
}

}  // namespace

TEST_CASE("score splice: the usual shapes are written exactly as json::patch writes them") {
    const std::vector<std::string> records = {
        R"({"@timestamp":"2024-03-11T00:48:50.220Z","event":{"action":"login"},"user":{"name":"u1"},"source":{"ip":"1.2.3.4"}})",
        R"({"user":{"name":"u1"},"source":{"ip":"1.2.3.4"}})",
        R"({"event":{"action":"login"}})",
        R"({"event":{}})",
        R"({"event":{ }, "user":{"name":"u1"}})",
        R"({"user":{"name":"u1"},"event":{"action":"login","kind":"event"}})",
        R"({})",
        R"( { } )",
        R"({ "a" : 1 , "event" : { "action" : "x" , "b" : [1, {"c":"}"}] } , "z" : "q\"}" } )",
        R"({"a":"x\"event\":{","event":{"k":"v\\"},"b":[{"event":1}]})",
        R"({"eventName":"ConsoleLogin","sourceIPAddress":"1.2.3.4","userIdentity":{"arn":"arn:aws:iam::1:user/a"}})",
        R"({"events":{"risk_score":1},"sd":2,"sdsx":3})",
        R"({"event":{"risk_scores":1,"risk_scor":2},"x":null})",
        R"({"a":true,"b":false,"c":-1.5e3,"event":{"x":[]},"d":{}}   )",
        "{\"event\":{\"action\":\"login\"},\n\t\"user\":{\"name\":\"u1\"}\r\n}",
    };
    simdjson::dom::parser parser;
    for (const auto& r : records) {
        CAPTURE(r);
        CHECK(with_splice(parser, r) == with_patch(parser, r));
    }
    // Long strings (scanned 16 bytes at a time) with an escaped quote or backslash at every
    // place, before "event", inside it and after it, and the record ending right after them.
    for (int at = 0; at < 40; ++at) {
        for (const char* esc : {"\\\"", "\\\\", "\\u0022"}) {
            std::string v = std::string(size_t(at), 'x') + esc + std::string(size_t(40 - at), 'y');
            const std::vector<std::string> shaped = {
                "{\"a\":\"" + v + "\",\"event\":{\"k\":\"" + v + "\"},\"b\":\"" + v + "\"}",
                "{\"" + v + "\":1,\"event\":{\"" + v + "\":\"" + v + "\"}}",
                "{\"a\":[\"" + v + "\",{\"event\":\"" + v + "\"}],\"c\":\"" + v + "\"}",
            };
            for (const auto& r : shaped) {
                CAPTURE(r);
                CHECK(with_splice(parser, r) == with_patch(parser, r));
            }
        }
    }
}

TEST_CASE("score splice: shapes for json::patch are handed back with nothing written") {
    const std::vector<std::string> records = {
        R"({"sds":{"anomaly":{"score":1}},"event":{"action":"login"}})",  // an earlier run's values
        R"({"sds":{"other":1}})",
        R"({"event":{"risk_score":12,"action":"login"}})",                  // replaced in place
        R"({"event":"login"})",                                              // not an object
        R"({"event":[1,2]})",
        R"({"ev\u0065nt":{"action":"login"}})",                              // the same key, written otherwise
        R"({"s\u0064s":{"x":1}})",
        R"({"event":{"risk\u005fscore":1}})",
    };
    simdjson::dom::parser parser;
    for (const auto& r : records) {
        CAPTURE(r);
        std::string s = with_splice(parser, r);
        if (s == "declined") continue;
        // A shape it did take must still be written as json::patch writes it.
        CHECK(s == with_patch(parser, r));
    }
    // These the writer must not take.
    CHECK(with_splice(parser, R"({"sds":{"anomaly":{"score":1}},"event":{"action":"login"}})") == "declined");
    CHECK(with_splice(parser, R"({"event":{"risk_score":12,"action":"login"}})") == "declined");
    CHECK(with_splice(parser, R"({"event":"login"})") == "declined");
    CHECK(with_splice(parser, R"({"ev\u0065nt":{"action":"login"}})") == "declined");
}

TEST_CASE("score extract: the in-place dotted quad parser agrees with ip::parse") {
    std::vector<std::string> texts = {"0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.1", "192.168.100.200",
                                      "01.2.3.4", "1.2.3.04", "00.0.0.0", "256.1.1.1", "1.2.3.256", "1.2.3",
                                      "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4%eth0",
                                      "1234.1.1.1", "1.2.3.4a", "a.b.c.d", "::ffff:1.2.3.4", "1.2.3.-4", "1.2.3.+4",
                                      "999.999.999.999", "0x1.2.3.4", ""};
    // And every part value in every position, with and without a leading zero.
    for (int x = 0; x < 300; ++x) {
        texts.push_back(fmt::format("{}.7.8.9", x));
        texts.push_back(fmt::format("7.{}.8.{}", x, 300 - x));
        texts.push_back(fmt::format("7.8.9.0{}", x));
    }
    int taken = 0;
    for (const auto& s : texts) {
        CAPTURE(s);
        ip::address a;
        if (ip::parse_plain_v4(s, a)) {
            ++taken;
            auto b = ip::parse(s);
            REQUIRE(b.has_value());
            CHECK(a == *b);
        }
    }
    CHECK(taken == 5 + 256 + 211);  // the five plain ones, x in 0-255, x in 45-255 (300 - x <= 255)
}

TEST_CASE("score extract: field_path finds what json::find finds (dotted keys, nesting, duplicates, misses)") {
    const std::vector<std::string> docs = {
        R"({"a":{"b":{"c":1}},"a.b":{"c":2},"a.b.c":3})",
        R"({"a":{"b":{"c":1}},"a.b":{"c":2}})",
        R"({"a.b":{"c":2},"a":{"b":{"c":1}}})",
        R"({"a":{"b.c":4},"a.b":{"c":2}})",
        R"({"a":{"x":1},"a.b":{"c":2}})",
        R"({"a":{"b":5},"a":{"b":{"c":6}}})",
        R"({"a":7,"a.b":{"c":8}})",
        R"({"source":{"ip":"1.2.3.4","as":{"number":1},"geo":{"country_iso_code":"DE"}},"source.geo":{"location":{"lat":1,"lon":2}}})",
        R"({"source":{"geo":{"country_iso_code":"DE"}},"source.geo":{"location":9}})",
        R"({"":{"x":10},"x":11,"a":{"":{"b":12}},"a.":{"b":13}})",
        R"({"user":{"name":"u"},"user.name":"v"})",
        R"([1,2])",
        R"({})",
    };
    const std::vector<std::string> paths = {"a.b.c", "a.b", "a", "a.x", "a.b.c.d", "source.ip", "source.as.number",
                                            "source.geo.country_iso_code", "source.geo.location", "source.geo.location.lat",
                                            ".x", "a..b", "a.", "x", "user.name", "nope", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"};
    simdjson::dom::parser parser;
    auto text = [](std::optional<simdjson::dom::element> e) {
        return e ? simdjson::minify(*e) : std::string("(none)");
    };
    for (const auto& d : docs) {
        simdjson::dom::element doc = parser.parse(d).value();
        std::vector<score::member_ref> members;
        simdjson::dom::object obj;
        if (!doc.get_object().get(obj))
            for (auto m : obj) members.push_back(score::member_ref{m.key, m.value});
        for (const auto& p : paths) {
            CAPTURE(d);
            CAPTURE(p);
            score::field_path fp(p);
            std::string want = text(json::find(doc, p));
            CHECK(text(fp.find(doc)) == want);
            CHECK(text(fp.find(doc, members)) == want);
        }
    }
}
