#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sds/detect/extract.hpp"
#include "sds/detect/sigma.hpp"

using sds::detect::field_extractor;

namespace {

// The minified values of `field` by field_values() and by the extractor's index, in the order
// found; `extracted` tells whether the record was indexed.
struct both {
    std::vector<std::string> slow, fast;
    bool extracted = false;
};

both values(const std::string& json, const std::vector<std::string>& fields, size_t which) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(json);
    field_extractor fx;
    for (size_t i = 0; i < fields.size(); ++i) fx.add(static_cast<uint32_t>(i), fields[i]);
    both b;
    std::vector<simdjson::dom::element> v;
    sds::detect::field_values(doc, fields[which], v);
    for (auto e : v) b.slow.push_back(simdjson::minify(e));
    b.extracted = fx.index(doc);
    if (b.extracted) {
        std::vector<simdjson::dom::element> found;
        int ecs = -1;
        fx.values(static_cast<uint32_t>(which), found, ecs);
        for (auto e : found) b.fast.push_back(simdjson::minify(e));
    }
    return b;
}

}  // namespace

TEST_CASE("indexed lookup finds what field_values finds, in the same order") {
    const std::vector<std::string> fields = {"eventName", "userIdentity.type",
                                             "requestParameters.ipPermissions.items.toPort", "requestParameters",
                                             "userIdentity.sessionContext.sessionIssuer.type"};
    const std::string raw =
        R"({"eventName":"AuthorizeSecurityGroupIngress","userIdentity":{"type":"AssumedRole","sessionContext":)"
        R"({"sessionIssuer":{"type":"Role"}}},"requestParameters":{"ipPermissions":{"items":[{"toPort":22},)"
        R"({"toPort":[3389,[80]]},{"fromPort":1}]}},"other":{"type":"x"}})";
    for (size_t i = 0; i < fields.size(); ++i) {
        auto b = values(raw, fields, i);
        CHECK(b.extracted);
        CHECK(!b.slow.empty());
        CHECK(b.fast == b.slow);
    }
    auto ports = values(raw, fields, 2);
    CHECK(ports.fast == std::vector<std::string>{"22", "3389", "80"});
}

TEST_CASE("indexed lookup: ECS records use the ECS names") {
    const std::vector<std::string> fields = {"eventName", "userIdentity.type", "requestParameters.bucketName"};
    const std::string ecs =
        R"({"ecs":{"version":"8.11"},"event":{"action":"GetObject"},"aws":{"cloudtrail":{"user_identity":)"
        R"({"type":"IAMUser"},"flattened":{"request_parameters":{"bucketName":"b1"}}}}})";
    for (size_t i = 0; i < fields.size(); ++i) {
        auto b = values(ecs, fields, i);
        CHECK(b.extracted);
        CHECK(b.slow.size() == 1);
        CHECK(b.fast == b.slow);
    }
}

TEST_CASE("indexed lookup declines dotted top-level keys (field_values decides) and keeps a repeated key's first value") {
    const std::vector<std::string> fields = {"userIdentity.type", "eventName"};
    // A dotted key wins over the nested member in field_values: the extractor must not guess.
    auto dotted = values(R"({"userIdentity.type":"Root","userIdentity":{"type":"IAMUser"}})", fields, 0);
    CHECK_FALSE(dotted.extracted);
    CHECK(dotted.slow == std::vector<std::string>{"\"Root\""});
    // A repeated key: field_values takes the first, and so does the index.
    auto twice = values(R"({"eventName":"A","eventName":"B"})", fields, 1);
    CHECK(twice.extracted);
    CHECK(twice.slow == std::vector<std::string>{"\"A\""});
    CHECK(twice.fast == twice.slow);
    // Below the top level, dotted and repeated keys are walked as field_values walks them.
    auto nested = values(R"({"userIdentity":{"type":"X","type":"Y"},"x":{"userIdentity.type":1}})", fields, 0);
    CHECK(nested.extracted);
    CHECK(nested.fast == nested.slow);
    auto nested_dot = values(R"({"requestParameters":{"a.b":1,"a":{"b":2}}})", {"requestParameters.a.b", "x"}, 0);
    CHECK(nested_dot.extracted);
    CHECK(nested_dot.slow == std::vector<std::string>{"1"});  // the dotted key wins
    CHECK(nested_dot.fast == nested_dot.slow);
    // An ECS record's values under the ECS name only where the CloudTrail name has none.
    auto mixed = values(R"({"ecs":{"version":"8"},"eventName":"Raw","event":{"action":"Ecs"}})", fields, 1);
    CHECK(mixed.extracted);
    CHECK(mixed.fast == std::vector<std::string>{"\"Raw\""});
    CHECK(mixed.fast == mixed.slow);
    // A dataset that is not an object member, or an ecs member that is not an object: not ECS.
    auto not_ecs = values(R"({"ecs":["version"],"event":"dataset"})", {"eventName"}, 0);
    CHECK(not_ecs.extracted);
    CHECK(not_ecs.fast.empty());
    CHECK(not_ecs.slow.empty());
    // Keys no rule reads may repeat or have dots.
    auto other = values(R"({"x.y":1,"z":1,"z":2,"eventName":"C"})", fields, 1);
    CHECK(other.extracted);
    CHECK(other.fast == other.slow);
}

TEST_CASE("indexed lookup: one extractor across records whose members change order and spelling") {
    field_extractor fx;
    const std::vector<std::string> fields = {"eventName", "userIdentity.type", "errorCode"};
    for (size_t i = 0; i < fields.size(); ++i) fx.add(static_cast<uint32_t>(i), fields[i]);
    const std::vector<std::string> records = {
        R"({"eventName":"A","userIdentity":{"type":"Root"},"x":1})",
        R"({"eventName":"B","userIdentity":{"type":"IAMUser"},"x":2})",  // same order: guessed
        R"({"userIdentity":{"type":"AssumedRole"},"eventName":"C"})",    // swapped
        R"({"eventNamf":"D","userIdentity":{"type":"X"},"errorCode":"E"})",  // same length, other key
        R"({"eventName":"F","eventName":"G","errorCode":"H"})",              // repeated: the first
        R"({"userIdentity.type":"Root"})",                                   // dotted: declined
        R"({"eventName":"I"})",
    };
    simdjson::dom::parser parser;
    for (const auto& rec : records) {
        INFO(rec);
        simdjson::dom::element doc = parser.parse(rec);
        bool indexed = fx.index(doc);
        CHECK(indexed == (rec.find("userIdentity.type") == std::string::npos));
        if (!indexed) continue;
        for (size_t i = 0; i < fields.size(); ++i) {
            std::vector<simdjson::dom::element> slow, fast;
            sds::detect::field_values(doc, fields[i], slow);
            int ecs = -1;
            fx.values(static_cast<uint32_t>(i), fast, ecs);
            REQUIRE(fast.size() == slow.size());
            for (size_t k = 0; k < fast.size(); ++k) CHECK(simdjson::minify(fast[k]) == simdjson::minify(slow[k]));
        }
    }
}
