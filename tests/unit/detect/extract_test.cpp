#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sds/detect/extract.hpp"
#include "sds/detect/sigma.hpp"

using sds::detect::field_extractor;

namespace {

// The minified values of `field` by field_values() and by the extractor (sorted: the extractor
// does not keep their order); `fast` tells whether the record was extracted.
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
    std::vector<field_extractor::value> found;
    b.extracted = fx.extract(doc, found);
    std::vector<std::string> raw, ecs;
    for (const auto& f : found) {
        if (f.slot == 2 * which) raw.push_back(simdjson::minify(f.e));
        if (f.slot == 2 * which + 1) ecs.push_back(simdjson::minify(f.e));
    }
    b.fast = !raw.empty() || !sds::detect::is_ecs_record(doc) ? raw : ecs;
    std::sort(b.slow.begin(), b.slow.end());
    std::sort(b.fast.begin(), b.fast.end());
    return b;
}

}  // namespace

TEST_CASE("one-pass extraction finds what field_values finds") {
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

TEST_CASE("one-pass extraction: ECS records use the ECS names") {
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

TEST_CASE("one-pass extraction declines dotted and repeated keys (field_values decides)") {
    const std::vector<std::string> fields = {"userIdentity.type", "eventName"};
    // A dotted key wins over the nested member in field_values: the extractor must not guess.
    auto dotted = values(R"({"userIdentity.type":"Root","userIdentity":{"type":"IAMUser"}})", fields, 0);
    CHECK_FALSE(dotted.extracted);
    CHECK(dotted.slow == std::vector<std::string>{"\"Root\""});
    // A repeated key: field_values takes the first.
    auto twice = values(R"({"eventName":"A","eventName":"B"})", fields, 1);
    CHECK_FALSE(twice.extracted);
    CHECK(twice.slow == std::vector<std::string>{"\"A\""});
    // Keys no rule reads may repeat or have dots.
    auto other = values(R"({"x.y":1,"z":1,"z":2,"eventName":"C"})", fields, 1);
    CHECK(other.extracted);
    CHECK(other.fast == other.slow);
}
