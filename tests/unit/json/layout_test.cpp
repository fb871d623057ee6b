// json::layout_doc: documents over a fixed list of paths, written as doc_builder writes them.
#include <doctest/doctest.h>

#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sds/json/builder.hpp"
#include "sds/json/layout.hpp"

using namespace sds;

namespace {
constexpr std::array<std::string_view, 12> paths{
    "", "a", "a.x", "a.y", "a.b", "a.b.c", "list", "s", "n", "flag", "raw", "t"};
consteval json::layout_id P(std::string_view p) { return json::layout_index(paths, p); }
}  // namespace

TEST_CASE("layout: members keep first-set order, a member set again keeps its place, parents come with their first member") {
    json::layout_doc d(paths);
    for (int round = 0; round < 3; ++round) {  // clear() forgets everything of the last document
        d.clear();
        d.set_string(P("s"), "one");
        d.set_string(P("a.b.c"), "deep");
        d.set_int(P("n"), -42);
        d.set_string(P("a.x"), "x");
        d.set_string(P("s"), "two");  // replaced in place
        d.set_bool(P("flag"), round == 1);
        d.push_string(P("list"), "p");
        d.push_string(P("list"), "q", true);
        d.push_string(P("list"), "p", true);  // already there: not added
        d.push_string(P("list"), "p");        // not unique: added
        d.set_raw(P("raw"), R"({"k":[1,2]})");
        std::string out;
        d.serialize(out);
        CHECK(out == std::string(R"({"s":"two","a":{"b":{"c":"deep"},"x":"x"},"n":-42,"flag":)") +
                         (round == 1 ? "true" : "false") + R"(,"list":["p","q","p"],"raw":{"k":[1,2]}})");
    }
    d.clear();
    std::string empty;
    d.serialize(empty);
    CHECK(empty == "{}");
}

TEST_CASE("layout: same output as doc_builder for the same calls, escaping and invalid UTF-8 included") {
    // Random sequences of the calls both offer; copies are checked to survive the arena growing.
    std::mt19937 rng(7);
    const std::vector<std::string> values{"plain", "", "q\"b\\n\n\t\x01 \xc3\xa9", "\xff\xfe broken \xed\xa0\x80",
                                          std::string(100, 'x') + "\x1f", "\xe2\x82"};
    const std::vector<std::string_view> leaves{"a.x", "a.y", "a.b.c", "s", "t"};
    const json::layout_id ids[] = {P("a.x"), P("a.y"), P("a.b.c"), P("s"), P("t")};
    json::layout_doc d(paths);
    json::doc_builder b;
    for (int doc = 0; doc < 500; ++doc) {
        d.clear();
        b.clear();
        std::vector<std::string> keep;  // the views given to set_string must outlive serialize
        keep.reserve(64);
        const int calls = 1 + int(rng() % 20);
        for (int i = 0; i < calls; ++i) {
            const std::string& v = values[rng() % values.size()];
            const size_t which = rng() % leaves.size();
            switch (rng() % 6) {
                case 0:
                    keep.push_back(v);
                    d.set_string(ids[which], keep.back());
                    b.set_string(leaves[which], v);
                    break;
                case 1: {
                    std::string tmp = v + "!";  // gone before serialize: must be copied
                    d.set_string_copy(ids[which], tmp);
                    b.set_string(leaves[which], tmp);
                    break;
                }
                case 2: {
                    bool unique = rng() % 2;
                    keep.push_back(v);
                    d.push_string(P("list"), keep.back(), unique);
                    b.push_string("list", v, unique);
                    break;
                }
                case 3: {
                    int64_t n = int64_t(rng()) - int64_t(rng());
                    d.set_int(P("n"), n);
                    b.set_int("n", n);
                    break;
                }
                case 4: {
                    bool f = rng() % 2;
                    d.set_bool(P("flag"), f);
                    b.set_bool("flag", f);
                    break;
                }
                default: {
                    std::string raw = "[" + std::to_string(rng() % 1000) + "]";
                    d.push_raw_copy(P("raw"), raw);
                    b.push_raw("raw", raw);
                }
            }
        }
        std::string got;
        d.serialize(got);
        REQUIRE(got == b.str());
    }
}

TEST_CASE("layout: a layout whose parent paths are missing is refused") {
    constexpr std::array<std::string_view, 3> bad{"", "a.b", "a"};
    CHECK_THROWS(json::layout_doc(bad));
    constexpr std::array<std::string_view, 2> no_root{"a", "b"};
    CHECK_THROWS(json::layout_doc(no_root));
}
