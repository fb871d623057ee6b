#include <doctest/doctest.h>

#include <string>

#include "sds/core/hash.hpp"
#include "sds/ship/bulk.hpp"
#include "sds/ship/es_setup.hpp"
#include "sds/ship/sink.hpp"

using namespace sds::ship;

namespace {
simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& s) { return p.parse(s).value(); }
std::string render(const std::string& tmpl, const std::string& doc) {
    simdjson::dom::parser p;
    auto t = index_template::parse(tmpl);
    REQUIRE(t);
    std::string out;
    auto why = t->render(parse(p, doc), out);
    return why ? "ERR:" + *why : out;
}
}  // namespace

TEST_CASE("ship index_template: fields and the event date fill the name") {
    CHECK(render("logs-{event.dataset}-{@timestamp:%Y.%m.%d}",
                 R"({"@timestamp":"2024-01-02T23:59:59.999Z","event":{"dataset":"aws.cloudtrail"}})") ==
          "logs-aws.cloudtrail-2024.01.02");
    // dotted keys count as nested fields; offsets are converted to UTC
    CHECK(render("x-{event.dataset}-{@timestamp:%Y-%m-%d}", R"({"@timestamp":"2024-01-02T23:30:00-02:00","event.dataset":"a"})") ==
          "x-a-2024-01-03");
}

TEST_CASE("ship index_template: values are lower-cased and forbidden characters replaced") {
    CHECK(render("i-{a}", R"({"a":"Foo Bar/Baz:1*?"})") == "i-foo_bar_baz_1__");
    CHECK(render("i-{n}", R"({"n":42})") == "i-42");
}

TEST_CASE("ship index_template: epoch seconds and millis are event times") {
    CHECK(render("{t:%Y.%m.%d}", R"({"t":1700000000})") == "2023.11.14");
    CHECK(render("{t:%Y.%m.%d}", R"({"t":1700000000123})") == "2023.11.14");
}

TEST_CASE("ship index_template: a missing field or bad time is a reason, not a name") {
    CHECK(render("logs-{event.dataset}", R"({"event":{}})").rfind("ERR:", 0) == 0);
    CHECK(render("{@timestamp:%Y}", R"({"@timestamp":"yesterday"})").rfind("ERR:", 0) == 0);
    CHECK(render("{@timestamp:%Y}", R"({"@timestamp":{"a":1}})").rfind("ERR:", 0) == 0);
}

TEST_CASE("ship index_template: malformed templates are usage errors") {
    CHECK_FALSE(index_template::parse("logs-{event.dataset"));
    CHECK_FALSE(index_template::parse("logs-}"));
    CHECK_FALSE(index_template::parse("logs-{}"));
    CHECK_FALSE(index_template::parse("logs-{t:}"));
    CHECK_FALSE(index_template::parse(""));
    CHECK(index_template::parse("static")->is_static());
}

TEST_CASE("ship document_id: hex128 of event.dataset, 0x1f, event.id (pinned)") {
    simdjson::dom::parser p;
    std::string doc = R"({"event":{"dataset":"aws.cloudtrail","id":"e0"}})";
    auto id = document_id(parse(p, doc), doc, id_mode::derived, "");
    REQUIRE(id);
    CHECK(*id == sds::hash::hex128(std::string("aws.cloudtrail\x1f" "e0")));
    CHECK(*id == "e07c02f6c7cb0021ec1e7920e12a683d");
    // the same key from dotted keys and a different layout gives the same id
    std::string doc2 = R"({"message":"x","event.id":"e0","event.dataset":"aws.cloudtrail"})";
    CHECK(document_id(parse(p, doc2), doc2, id_mode::derived, "") == id);
    // another dataset, another document
    std::string doc3 = R"({"event":{"dataset":"aws.waf","id":"e0"}})";
    CHECK(document_id(parse(p, doc3), doc3, id_mode::derived, "") != id);
}

TEST_CASE("ship document_id: reused buffers give the ids of the allocating form, record after record") {
    simdjson::dom::parser p;
    id_buffers b;
    const char* docs[] = {R"({"event":{"dataset":"aws.cloudtrail","id":"a-rather-long-event-id-0123456789"}})",
                          R"({"event":{"id":7}})", R"({"a":1})", R"({"event":{"dataset":"x","id":"e"}})"};
    for (const char* d : docs) {
        std::string doc = d;
        auto want = document_id(parse(p, doc), doc, id_mode::derived, "");
        REQUIRE(document_id(parse(p, doc), doc, id_mode::derived, "", b));
        CHECK(b.id == *want);
    }
    std::string doc = R"({"k":{"id":12345}})";
    REQUIRE(document_id(parse(p, doc), doc, id_mode::field, "k.id", b));
    CHECK(b.id == "12345");
    CHECK_FALSE(document_id(parse(p, doc), doc, id_mode::field, "missing", b));
    CHECK_FALSE(document_id(parse(p, doc), doc, id_mode::none, "", b));
}

TEST_CASE("ship document_id: without event.id the record bytes are hashed; --id-field; --no-id") {
    simdjson::dom::parser p;
    std::string doc = R"({"a":1})";
    CHECK(*document_id(parse(p, doc), doc, id_mode::derived, "") == sds::hash::hex128(std::string("\x1e") + doc));
    std::string doc2 = R"({"k":{"id":12345}})";
    CHECK(*document_id(parse(p, doc2), doc2, id_mode::field, "k.id") == "12345");
    CHECK_FALSE(document_id(parse(p, doc2), doc2, id_mode::field, "missing"));
    CHECK_FALSE(document_id(parse(p, doc2), doc2, id_mode::none, ""));
}

TEST_CASE("ship append_action: create/index lines with escaped names") {
    std::string s;
    append_action(s, op_type::create, "logs-a", std::string("x\"y"));
    append_action(s, op_type::index, "i", std::nullopt);
    CHECK(s == "{\"create\":{\"_index\":\"logs-a\",\"_id\":\"x\\\"y\"}}\n{\"index\":{\"_index\":\"i\"}}\n");
}

TEST_CASE("ship classify: item and request outcomes") {
    CHECK(classify_item(201, op_type::create) == item_fate::delivered);
    CHECK(classify_item(200, op_type::index) == item_fate::delivered);
    CHECK(classify_item(409, op_type::create) == item_fate::already_present);
    CHECK(classify_item(409, op_type::index) == item_fate::reject);
    CHECK(classify_item(429, op_type::create) == item_fate::retry);
    CHECK(classify_item(503, op_type::create) == item_fate::retry);
    CHECK(classify_item(400, op_type::create) == item_fate::reject);
    CHECK(classify_request(200) == request_fate::parse_items);
    CHECK(classify_request(0) == request_fate::retry);
    for (long s : {429L, 500L, 502L, 503L, 504L}) CHECK(classify_request(s) == request_fate::retry);
    CHECK(classify_request(413) == request_fate::split);
    CHECK(classify_request(401) == request_fate::fatal_auth);
    CHECK(classify_request(403) == request_fate::fatal_auth);
    CHECK(classify_request(400) == request_fate::reject_all);
    CHECK(classify_request(404) == request_fate::fatal);
}

TEST_CASE("ship parse_bulk_response: errors false checks only the count") {
    auto r = parse_bulk_response(R"({"took":1,"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]})", 2);
    REQUIRE(r);
    CHECK_FALSE(r->errors);
    CHECK(r->results.empty());
    CHECK_FALSE(parse_bulk_response(R"({"took":1,"errors":false,"items":[{"create":{"status":201}}]})", 2));
    CHECK_FALSE(parse_bulk_response("<html>", 1));
    CHECK_FALSE(parse_bulk_response(R"({"error":{"type":"x"}})", 1));
}

TEST_CASE("ship parse_bulk_response: per-item statuses, types and reasons") {
    auto r = parse_bulk_response(
        R"({"errors":true,"items":[{"create":{"status":201}},
        {"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [source.ip] of type [ip]","caused_by":{"type":"illegal_argument_exception","reason":"'x' is not an IP string literal."}}}},
        {"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected"}}},
        {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[a]: version conflict"}}}]})",
        4);
    REQUIRE(r);
    REQUIRE(r->results.size() == 4);
    CHECK(r->results[0].status == 201);
    CHECK(r->results[1].type == "mapper_parsing_exception");
    CHECK(item_reason(r->results[1]) ==
          "elasticsearch: mapper_parsing_exception: failed to parse field [source.ip] of type [ip]: 'x' is not an IP string literal. (status 400)");
    CHECK(r->results[2].status == 429);
    CHECK(r->results[3].status == 409);
}

TEST_CASE("ship backoff: doubles, caps, and jitters within [d/2, d]") {
    CHECK(backoff_seconds(1, 0.2, 30, 0.0) == doctest::Approx(0.1));
    CHECK(backoff_seconds(1, 0.2, 30, 1.0) == doctest::Approx(0.2));
    CHECK(backoff_seconds(3, 0.2, 30, 1.0) == doctest::Approx(0.8));
    CHECK(backoff_seconds(20, 0.2, 30, 1.0) == doctest::Approx(30));
    CHECK(backoff_seconds(20, 0.2, 30, 0.0) == doctest::Approx(15));
}

TEST_CASE("ship setup: index pattern from the template and template bodies are JSON") {
    CHECK(index_pattern("logs-{event.dataset}-{@timestamp:%Y.%m.%d}") == "logs-*-*");
    CHECK(index_pattern("a{x}{y}b") == "a*b");
    simdjson::dom::parser p;
    auto c = component_template_body();
    auto root = p.parse(c);
    REQUIRE(root.error() == simdjson::SUCCESS);
    std::string_view t;
    REQUIRE(root["template"]["mappings"]["properties"]["source"]["properties"]["ip"]["type"].get(t) == simdjson::SUCCESS);
    CHECK(t == "ip");
    REQUIRE(root["template"]["mappings"]["properties"]["@timestamp"]["type"].get(t) == simdjson::SUCCESS);
    CHECK(t == "date");
    auto i = index_template_body("logs-*-*", "sds-ecs-mappings", true);
    simdjson::dom::parser p2;
    CHECK(p2.parse(i).error() == simdjson::SUCCESS);
    CHECK(i.find("\"data_stream\":{}") != std::string::npos);
}

TEST_CASE("ship base64: RFC 4648 vectors") {
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foobar") == "Zm9vYmFy");
}

TEST_CASE("ship gzip_compress: round trips through zlib") {
    std::string in(100000, 'a');
    std::string z;
    gzip_compress(in, z);
    CHECK(static_cast<unsigned char>(z[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(z[1]) == 0x8b);
    CHECK(z.size() < 1000);
}
