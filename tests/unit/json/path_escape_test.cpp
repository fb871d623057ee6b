// json::find (nested objects and dotted keys alike) and escaping/UTF-8 validation.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>

#include "sds/json/escape.hpp"
#include "sds/json/path.hpp"

using namespace sds;

namespace {
simdjson::dom::parser parser;
simdjson::dom::element parse(const char* s) { return parser.parse(std::string(s)).value(); }
}  // namespace

TEST_CASE("path: a.b.c resolves nested objects and dotted keys alike") {
    for (const char* doc : {R"({"a":{"b":{"c":"v"}}})", R"({"a.b":{"c":"v"}})", R"({"a":{"b.c":"v"}})",
                            R"({"a.b.c":"v"})", R"({"x":1,"a":{"y":2,"b":{"c":"v"}}})"}) {
        CAPTURE(doc);
        simdjson::dom::parser p;
        simdjson::dom::element root = p.parse(std::string(doc)).value();
        CHECK(json::find_string(root, "a.b.c") == std::optional<std::string_view>("v"));
    }
}

TEST_CASE("path: a dead-end nested branch does not hide a dotted key beside it") {
    simdjson::dom::parser p;
    auto root = p.parse(std::string(R"({"a":{"x":1},"a.b":{"c":"found"}})")).value();
    CHECK(json::find_string(root, "a.b.c") == std::optional<std::string_view>("found"));
}

TEST_CASE("path: missing paths, non-objects and wrong types give nothing") {
    auto root = parse(R"({"a":{"b":[1,2]},"n":5})");
    CHECK_FALSE(json::find(root, "a.c"));
    CHECK_FALSE(json::find(root, "a.b.c"));
    CHECK_FALSE(json::find(root, "n.x"));
    CHECK_FALSE(json::find_string(root, "n"));
    CHECK_FALSE(json::find(root, ""));
    CHECK(json::find(root, "a.b"));
}

TEST_CASE("path: scalar text for strings, numbers and booleans") {
    simdjson::dom::parser p;
    auto root = p.parse(std::string(R"({"s":"x","i":-5,"u":18446744073709551615,"d":1.5,"t":true,"z":null,"o":{}})")).value();
    std::string scratch;
    CHECK(json::find_scalar_text(root, "s", scratch) == std::optional<std::string_view>("x"));
    CHECK(json::find_scalar_text(root, "i", scratch) == std::optional<std::string_view>("-5"));
    CHECK(json::find_scalar_text(root, "u", scratch) == std::optional<std::string_view>("18446744073709551615"));
    CHECK(json::find_scalar_text(root, "d", scratch) == std::optional<std::string_view>("1.5"));
    CHECK(json::find_scalar_text(root, "t", scratch) == std::optional<std::string_view>("true"));
    CHECK_FALSE(json::find_scalar_text(root, "z", scratch));
    CHECK_FALSE(json::find_scalar_text(root, "o", scratch));
}

TEST_CASE("escape: control characters, quotes and backslashes; bytes >= 0x80 copied") {
    std::string out;
    json::append_string(out, std::string("a\"\\/\b\f\n\r\t\x00\x1f\x7f\xc3\xa9", 14));
    CHECK(out == "\"a\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\xc3\xa9\"");
}

TEST_CASE("escape: valid_utf8 accepts well-formed text and rejects overlongs, surrogates, > U+10FFFF") {
    CHECK(json::valid_utf8(""));
    CHECK(json::valid_utf8("plain ascii that is longer than eight bytes"));
    CHECK(json::valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
    CHECK_FALSE(json::valid_utf8("\xc0\x80"));          // overlong NUL
    CHECK_FALSE(json::valid_utf8("\xe0\x80\xaf"));      // overlong
    CHECK_FALSE(json::valid_utf8("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(json::valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
    CHECK_FALSE(json::valid_utf8("abcdefgh\xe2\x82"));  // truncated at the end
    CHECK_FALSE(json::valid_utf8("\x80"));              // lone continuation
}

TEST_CASE("escape: numbers") {
    std::string out;
    json::append_int(out, -9223372036854775807LL - 1);
    out += ' ';
    json::append_uint(out, 18446744073709551615ULL);
    out += ' ';
    json::append_double(out, 0.1);
    out += ' ';
    json::append_double(out, -3.0);
    CHECK(out == "-9223372036854775808 18446744073709551615 0.1 -3");
}
