// json_framer: cuts JSON text into records (NDJSON, pretty-printed, "}{", top-level arrays,
// streamed {"Records":[…]}) identically whatever the chunking, resynchronising after garbage.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/chunks.hpp"
#include "sds/fetch/framer.hpp"

using namespace sds;
using sds::test::feed_chunks;
using sds::test::feed_cuts;
using sds::test::for_each_split;

namespace {

struct collect final : fetch::framer_handler {
    std::vector<std::string> log;
    status on_value(std::string_view text, uint64_t line, bool element, bool multiline) override {
        log.push_back(std::string(element ? "E" : "V") + (multiline ? "m" : "") + std::to_string(line) + ":" +
                      std::string(text));
        return status::success();
    }
    status on_bad(std::string_view reason, uint64_t line, std::string_view text) override {
        log.push_back("B" + std::to_string(line) + ":" + std::string(reason) + "|" + std::string(text));
        return status::success();
    }
};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& x : v) s += x + "\n";
    return s;
}

std::vector<std::string> frame(std::string_view input, const std::vector<size_t>& cuts = {},
                               size_t max = 1 << 20) {
    collect c;
    fetch::json_framer f(c, max);
    REQUIRE(feed_cuts(f, input, cuts));
    return c.log;
}

// Every chunking gives `expected`.
void check_every_split(std::string_view input, const std::vector<std::string>& expected, size_t max = 1 << 20) {
    for_each_split(input, [&](const std::vector<size_t>& cuts) {
        auto got = frame(input, cuts, max);
        if (got != expected) {
            std::string c;
            for (auto x : cuts) c += std::to_string(x) + ",";
            INFO("cuts: ", c);
            CHECK(join(got) == join(expected));
        }
    });
}

}  // namespace

TEST_CASE("framer: NDJSON lines are values with their line numbers") {
    std::string in = "{\"a\":1}\n{\"b\":[1,{\"c\":\"}\"}]}\r\n\n{\"d\":\"x\\\"}\"}\n";
    std::vector<std::string> expected = {"V1:{\"a\":1}", "V2:{\"b\":[1,{\"c\":\"}\"}]}", "V4:{\"d\":\"x\\\"}\"}"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
}

TEST_CASE("framer: Records wrapper is streamed element by element at every chunk boundary") {
    std::string in =
        "{\"Records\":[{\"eventID\":\"1\",\"x\":{\"y\":[1,2]}},\n {\"eventID\":\"2\",\"s\":\"]}\\\"\"} ,"
        "{\"eventID\":\"3\"}]}\n";
    std::vector<std::string> expected = {"E1:{\"eventID\":\"1\",\"x\":{\"y\":[1,2]}}",
                                         "E2:{\"eventID\":\"2\",\"s\":\"]}\\\"\"}", "E2:{\"eventID\":\"3\"}"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
}

TEST_CASE("framer: Records wrapper with whitespace, trailing keys, then a second file-level object") {
    std::string in = "{ \"Records\" : [ {\"a\":1} ], \"tail\": {\"Records\":[{\"no\":1}]} }\n{\"b\":2}\n";
    std::vector<std::string> expected = {"E1:{\"a\":1}", "V2:{\"b\":2}"};
    check_every_split(in, expected);
}

TEST_CASE("framer: a key that only looks like Records after its escapes is not the wrapper") {
    // "Recor\"ds" unescapes to Recor"ds: the object is one record, not a Records wrapper.
    std::string in = "{\"Recor\\\"ds\":[{\"a\":1}]}\n";
    CHECK(join(frame(in)) == join({"V1:" + in.substr(0, in.size() - 1)}));
}

TEST_CASE("framer: top-level arrays give one element each; scalars in them are bad alone") {
    std::string in = "[{\"a\":1},\n  {\"b\":\n2}, 3, \"s,]\", [1], {\"c\":3}\n]\n{\"d\":4}\n";
    std::vector<std::string> expected = {"E1:{\"a\":1}",
                                         "Em2:{\"b\":\n2}",
                                         "B3:not a JSON object|3",
                                         "B3:not a JSON object|\"s,]\"",
                                         "E3:[1]",
                                         "E3:{\"c\":3}",
                                         "V5:{\"d\":4}"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
}

TEST_CASE("framer: pretty-printed multi-line objects are one value each, flagged multiline") {
    std::string in = "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  }\n}\n{\n  \"d\": 2\n}\n";
    std::vector<std::string> expected = {"Vm1:{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  }\n}",
                                         "Vm7:{\n  \"d\": 2\n}"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
}

TEST_CASE("framer: Firehose-concatenated objects (}{ with no newline) are separate values") {
    std::string in = "{\"a\":1}{\"b\":\"}{\"}{\"c\":3}\n{\"d\":4}{\"e\":5}";
    std::vector<std::string> expected = {"V1:{\"a\":1}", "V1:{\"b\":\"}{\"}", "V1:{\"c\":3}", "V2:{\"d\":4}",
                                         "V2:{\"e\":5}"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
}

TEST_CASE("framer: garbage lines between good lines are each rejected alone with their line number") {
    std::string in =
        "{\"a\":1}\n"
        "not json at all\r\n"
        "{\"b\":2}\n"
        "{\"broken\": [1,2\n"
        "{\"c\":3}\n"
        "{\"str\":\"unterminated\n"
        "{\"d\":4}\n"
        "] stray\n"
        "{\"e\":5}";
    std::vector<std::string> expected = {
        "V1:{\"a\":1}",
        "B2:not a JSON object|not json at all",
        "V3:{\"b\":2}",
        "B4:invalid JSON (record not closed at end of line)|{\"broken\": [1,2",
        "V5:{\"c\":3}",
        "B6:invalid JSON (record ends inside a string at end of line)|{\"str\":\"unterminated",
        "V7:{\"d\":4}",
        "B8:not a JSON object|] stray",
        "V9:{\"e\":5}"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
}

TEST_CASE("framer: a long garbage line is reported whole whatever the chunking") {
    std::string junk(3000, 'j');
    std::string in = "{\"a\":1}\n" + junk + "\r\n{\"b\":2}\n";
    std::vector<std::string> expected = {"V1:{\"a\":1}", "B2:not a JSON object|" + junk, "V3:{\"b\":2}"};
    for (size_t n : {size_t(1), size_t(2), size_t(100), size_t(1024), size_t(3009), size_t(3010), in.size()}) {
        CAPTURE(n);
        std::vector<size_t> cuts;
        for (size_t i = n; i < in.size(); i += n) cuts.push_back(i);
        CHECK(join(frame(in, cuts)) == join(expected));
    }
}

TEST_CASE("framer: truncated file reports the complete elements then the truncation") {
    std::string in = "{\"Records\":[{\"a\":1},{\"b\":{\"c\":";
    std::vector<std::string> expected = {"E1:{\"a\":1}",
                                         "B1:truncated record (unexpected end of input)|{\"b\":{\"c\":"};
    CHECK(join(frame(in)) == join(expected));
    check_every_split(in, expected);
    // Cut between elements: the array is not closed.
    auto log = frame("{\"Records\":[{\"a\":1},");
    REQUIRE(log.size() == 2);
    CHECK(log[1].rfind("B1:truncated file", 0) == 0);
    // A lone pretty-printed object cut short.
    CHECK(join(frame("{\n\"a\": 1,\n")) == join({"B1:truncated record (unexpected end of input)|{\n\"a\": 1,"}));
}

TEST_CASE("framer: oversize records and elements are rejected whole, neighbours kept") {
    const size_t max = 32;
    std::string big = "{\"big\":\"" + std::string(100, 'z') + "\"}";  // 110 bytes
    std::string in = "{\"Records\":[{\"a\":1}," + big + ",{\"b\":2}]}\n{\"c\":3}\n" + big + "\n{\"d\":4}\n";
    std::vector<std::string> expected = {
        "E1:{\"a\":1}", "B1:record of 110 bytes exceeds --max-record-bytes (first bytes kept)|" + big,
        "E1:{\"b\":2}", "V2:{\"c\":3}",
        "B3:record of 110 bytes exceeds --max-record-bytes (first bytes kept)|" + big, "V4:{\"d\":4}"};
    CHECK(join(frame(in, {}, max)) == join(expected));
    check_every_split(in, expected, max);
}

TEST_CASE("framer: empty input and whitespace give nothing") {
    CHECK(frame("").empty());
    CHECK(frame("\n\r\n  \t\n").empty());
    CHECK(frame("[]").empty());
    CHECK(frame("{\"Records\":[]}").empty());
}

TEST_CASE("framer: compact removes whitespace outside strings only") {
    std::string out;
    fetch::compact("{\n  \"a b\": \"c\\\" d\",\n  \"e\": [ 1 , 2 ]\n}", out);
    CHECK(out == "{\"a b\":\"c\\\" d\",\"e\":[1,2]}");
}
