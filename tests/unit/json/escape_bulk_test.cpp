// The block-at-a-time escaping and the hash-indexed builder against plain reference versions:
// every length around the 16-byte blocks, the byte needing attention at every position, and
// documents with many members.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sds/json/builder.hpp"
#include "sds/json/escape.hpp"

using namespace sds;

namespace {

// Byte-by-byte reference of append_string_lossy.
std::string reference_lossy(std::string_view s) {
    std::string out = "\"";
    static constexpr char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                default:
                    if (c < 0x20) {
                        out += "\\u00";
                        out += hex[c >> 4];
                        out += hex[c & 15];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        // A whole valid sequence is copied; anything else becomes U+FFFD, one byte at a time.
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (n && i + n <= s.size() && json::valid_utf8(s.substr(i, n))) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out + "\"";
}

}  // namespace

TEST_CASE("escape: bulk copy finds the byte to escape at every position of every length") {
    const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "\xc3\xa9",
                                    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xed\xa0\x80"};
    for (size_t len = 0; len <= 40; ++len) {
        for (size_t pos = 0; pos <= len; ++pos) {
            for (const auto& sp : specials) {
                std::string s(len, 'a');
                s.insert(pos, sp);
                std::string got = "prefix";
                json::append_string_lossy(got, s);
                CHECK(got == "prefix" + reference_lossy(s));
                std::string esc;
                json::append_escaped(esc, s);
                if (json::valid_utf8(s)) CHECK("\"" + esc + "\"" == reference_lossy(s));
            }
        }
    }
}

TEST_CASE("escape: random bytes agree with the reference") {
    std::mt19937 rng(1234);
    const char alphabet[] = "ab\"\\\n\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xed\xa0 ";
    for (int round = 0; round < 2000; ++round) {
        std::string s(rng() % 80, ' ');
        for (char& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
        std::string got;
        json::append_string_lossy(got, s);
        CHECK(got == reference_lossy(s));
        CHECK(json::valid_utf8(got));
    }
}

TEST_CASE("builder: many members in many objects keep first-set order and are found again") {
    json::doc_builder b;
    for (int round = 0; round < 3; ++round) {  // clear() between documents keeps nothing
        b.clear();
        std::string want = "{";
        for (int o = 0; o < 30; ++o) {
            if (o) want += ",";
            want += "\"o" + std::to_string(o) + "\":{";
            for (int k = 0; k < 40; ++k) {
                b.set_int("o" + std::to_string(o) + ".k" + std::to_string(k), k + round);
                if (k) want += ",";
                want += "\"k" + std::to_string(k) + "\":" + std::to_string(k + round);
            }
            want += "}";
        }
        want += "}";
        // Setting again replaces in place.
        b.set_int("o3.k7", 7 + round);
        CHECK(b.str() == want);
        CHECK(b.has("o29.k39"));
        CHECK_FALSE(b.has("o29.k40"));
        CHECK_FALSE(b.has("o30"));
    }
}

TEST_CASE("builder: members of a replaced object are gone, also below it") {
    json::doc_builder b;
    b.set_int("a.b.c", 1);
    b.set_int("a.x", 2);
    b.set_string("a", "scalar");
    CHECK_FALSE(b.has("a.b"));
    CHECK_FALSE(b.has("a.b.c"));
    b.set_int("a.b.d", 3);
    CHECK_FALSE(b.has("a.b.c"));
    CHECK(b.str() == R"({"a":{"b":{"d":3}}})");
    b.push_string("a.b", "v");  // an object replaced by an array
    CHECK_FALSE(b.has("a.b.d"));
    CHECK(b.str() == R"({"a":{"b":["v"]}})");
}

TEST_CASE("escape: write_string_lossy writes what append_string_lossy appends, at every length and byte") {
    // Lengths around the 8/16-byte fast paths, bytes from the classes that matter (plain, '"',
    // '\\', controls, UTF-8 lead and continuation bytes, invalid ones).
    std::mt19937 rng(11);
    const unsigned char pool[] = {'a', 'Z', '0', ' ', '~', '"', '\\', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0xbf,
                                  0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0xff};
    std::vector<char> buf;
    for (int round = 0; round < 20000; ++round) {
        size_t n = rng() % 40;
        std::string s;
        const bool mostly_plain = rng() % 2;
        for (size_t i = 0; i < n; ++i)
            s.push_back(static_cast<char>(mostly_plain && rng() % 8 ? 'a' + rng() % 26 : pool[rng() % sizeof pool]));
        std::string want;
        sds::json::append_string_lossy(want, s);
        buf.assign(6 * s.size() + 2, '\0');
        char* end = sds::json::write_string_lossy(buf.data(), s);
        REQUIRE(std::string(buf.data(), end) == want);
    }
}
