// fetch::emitter + sniffer: validation, CloudWatch Logs unwrapping, digests, text lines,
// @source, compaction, and the counters (in == out + rejected + filtered).
#include <doctest/doctest.h>
#include <simdjson.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../support/chunks.hpp"
#include "sds/fetch/emitter.hpp"

using namespace sds;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string line;
    while (std::getline(ss, line)) v.push_back(line);
    return v;
}

struct result {
    std::vector<std::string> out;
    std::vector<std::string> dead;  // "reason|line|record"
    cli::counters n;
};

// Runs one source object through sniffer+emitter inside a real tool frame, in `chunk`-byte pieces.
result emit(std::string_view input, bool annotate = false, size_t chunk = 0, size_t max = 1 << 20) {
    char out_path[] = "/tmp/sds-emitter-out-XXXXXX";
    char dead_path[] = "/tmp/sds-emitter-dead-XXXXXX";
    ::close(::mkstemp(out_path));
    ::close(::mkstemp(dead_path));
    cli::tool t("sds-fetch", "test");
    t.common().output = out_path;
    t.common().dead_letter = dead_path;
    t.run([&] {
        fetch::emitter em(t, annotate);
        em.begin("test.json", "file:///data/test.json");
        fetch::sniffer sn(em, max);
        io::auto_decoder dec(sn);
        auto s = chunk ? test::feed_chunks(dec, input, chunk) : test::feed_cuts(dec, input, {});
        CHECK(s);
        return exit_code::ok;
    });
    result r;
    r.out = lines_of(slurp(out_path));
    simdjson::dom::parser p;
    for (auto& l : lines_of(slurp(dead_path))) {
        simdjson::dom::element d;
        REQUIRE_FALSE(p.parse(l).get(d));
        r.dead.push_back(std::string(std::string_view(d["reason"])) + "|" +
                         std::to_string(uint64_t(d["line"])) + "|" + std::string(std::string_view(d["record"])));
        CHECK(std::string_view(d["tool"]) == "sds-fetch");
        CHECK(std::string_view(d["source"]) == "test.json");
    }
    r.n = t.count();
    ::unlink(out_path);
    ::unlink(dead_path);
    // Every record written is one valid JSON object on one line.
    for (auto& l : r.out) {
        simdjson::dom::element e;
        CHECK_FALSE(p.parse(l).get(e));
        CHECK(e.is_object());
    }
    CHECK(r.n.in == r.n.out + r.n.rejected + r.n.filtered);
    CHECK(r.n.out == r.out.size());
    CHECK(r.n.rejected == r.dead.size());
    return r;
}

}  // namespace

TEST_CASE("emitter: JSON lines are passed byte for byte; bad ones dead-lettered with their line") {
    std::string in = "{\"a\": 1, \"b\" :[ 2 ]}\n{\"c\":tru}\n[1]\n{\"d\":\"\xff\"}\n{\"e\":5}\n";
    auto r = emit(in);
    CHECK(r.out == std::vector<std::string>{"{\"a\": 1, \"b\" :[ 2 ]}", "{\"e\":5}"});
    CHECK(r.dead == std::vector<std::string>{"invalid JSON (bad literal)|2|{\"c\":tru}",
                                             "not a JSON object|3|[1]",
                                             "invalid UTF-8|4|{\"d\":\"\xef\xbf\xbd\"}"});
    CHECK(r.n.in == 5);
}

TEST_CASE("emitter: CloudTrail Records file gives one record per element, same for every chunking") {
    std::string in = "{\"Records\":[{\"eventID\":\"e1\",\"eventName\":\"A\"},{\"eventID\":\"e2\"},7]}";
    auto whole = emit(in);
    CHECK(whole.out == std::vector<std::string>{"{\"eventID\":\"e1\",\"eventName\":\"A\"}", "{\"eventID\":\"e2\"}"});
    CHECK(whole.dead == std::vector<std::string>{"not a JSON object|1|7"});
    for (size_t n = 1; n < in.size(); n += 7) {
        auto r = emit(in, false, n);
        CHECK(r.out == whole.out);
        CHECK(r.dead == whole.dead);
    }
}

TEST_CASE("emitter: Records wrapper whose first key is not Records is unwrapped too") {
    auto r = emit("{\"version\":1,\"Records\":[{\"a\":1},{\"b\":2},\"x\"]}\n");
    CHECK(r.out == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
    CHECK(r.dead.size() == 1);
    CHECK(r.n.in == 3);
}

TEST_CASE("emitter: CloudWatch Logs DATA_MESSAGE gives one record per log event with group and stream") {
    std::string in = R"({"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f",)"
                     R"("logStream":"2024/01/01/[$LATEST]abc","subscriptionFilters":["flt"],"logEvents":[)"
                     R"({"id":"1","timestamp":1700000000000,"message":"hello \"world\"\n"},)"
                     R"({"id":"2","timestamp":1700000000001,"message":"{\"inner\":true}"},)"
                     R"({"id":"3","timestamp":1700000000002}]})";
    auto r = emit(in);
    REQUIRE(r.out.size() == 2);
    CHECK(r.out[0] ==
          R"({"message":"hello \"world\"\n","aws":{"cloudwatch":{"log_group":"/aws/lambda/f",)"
          R"("log_stream":"2024/01/01/[$LATEST]abc","owner":"123456789012","subscription_filters":["flt"],)"
          R"("id":"1","timestamp":1700000000000}}})");
    CHECK(r.out[1].rfind(R"({"message":"{\"inner\":true}","aws":)", 0) == 0);
    REQUIRE(r.dead.size() == 1);
    CHECK(r.dead[0].rfind("CloudWatch Logs event without a message|1|", 0) == 0);
    CHECK(r.n.in == 3);
}

TEST_CASE("emitter: CloudWatch Logs payload gzip-compressed, several per file, is unwrapped") {
    std::string one = R"({"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"m1"}]})";
    std::string gz = test::gzip(one) + test::gzip(one);  // Firehose delivers concatenated payloads
    auto r = emit(gz, false, 5);
    CHECK(r.out.size() == 2);
    CHECK(r.n.in == 2);
}

TEST_CASE("emitter: CloudWatch Logs CONTROL_MESSAGE is filtered, not rejected") {
    auto r = emit(R"({"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"",)"
                  R"("subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]})");
    CHECK(r.out.empty());
    CHECK(r.dead.empty());
    CHECK(r.n.filtered == 1);
    CHECK(r.n.in == 1);
}

TEST_CASE("emitter: CloudTrail digest content is filtered, not rejected") {
    auto r = emit(R"({"awsAccountId":"111122223333","digestStartTime":"2024-01-01T00:00:00Z",)"
                  R"("digestEndTime":"2024-01-01T01:00:00Z","logFiles":[]})"
                  "\n");
    CHECK(r.out.empty());
    CHECK(r.dead.empty());
    CHECK(r.n.filtered == 1);
}

TEST_CASE("emitter: text lines become {\"message\":…}, escaped; invalid UTF-8 lines rejected") {
    std::string in = "10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a\\b \"q\" HTTP/1.0\" 200\r\n\nbad \xc3\x28 line\n\tlast";
    auto r = emit(in);
    CHECK(r.out == std::vector<std::string>{
                       R"({"message":"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a\\b \"q\" HTTP/1.0\" 200"})",
                       R"({"message":"\tlast"})"});
    REQUIRE(r.dead.size() == 1);
    CHECK(r.dead[0].rfind("invalid UTF-8|3|", 0) == 0);
}

TEST_CASE("emitter: --annotate adds @source with uri and the 1-based record index") {
    auto r = emit("{\"a\":1}\n{}\n{\"Records\":[{\"b\":2}]}\n", true);
    CHECK(r.out == std::vector<std::string>{
                       R"({"@source":{"uri":"file:///data/test.json","line":1},"a":1})",
                       R"({"@source":{"uri":"file:///data/test.json","line":2}})",
                       R"({"@source":{"uri":"file:///data/test.json","line":3},"b":2})"});
    auto t = emit("first\nsecond\n", true);
    CHECK(t.out == std::vector<std::string>{
                       R"({"@source":{"uri":"file:///data/test.json","line":1},"message":"first"})",
                       R"({"@source":{"uri":"file:///data/test.json","line":2},"message":"second"})"});
}

TEST_CASE("emitter: pretty-printed records are compacted onto one line, strings untouched") {
    auto r = emit("{\n  \"a\": \"x  y\",\n  \"b\": [ 1,\n 2 ]\n}\n{\n\"c\": {}\n}\n", true);
    CHECK(r.out == std::vector<std::string>{
                       R"({"@source":{"uri":"file:///data/test.json","line":1},"a":"x  y","b":[1,2]})",
                       R"({"@source":{"uri":"file:///data/test.json","line":2},"c":{}})"});
}

TEST_CASE("emitter: empty and blank input give no records and no rejects") {
    for (std::string in : {std::string(), std::string("\n \n\t\r\n")}) {
        auto r = emit(in);
        CHECK(r.out.empty());
        CHECK(r.n.in == 0);
    }
}

TEST_CASE("emitter: oversize text line rejected whole, neighbours kept") {
    std::string in = "short\n" + std::string(200, 'L') + "\nafter\n";
    auto r = emit(in, false, 16, 100);
    CHECK(r.out == std::vector<std::string>{R"({"message":"short"})", R"({"message":"after"})"});
    REQUIRE(r.dead.size() == 1);
    CHECK(r.dead[0].rfind("line of 200 bytes exceeds --max-record-bytes (first bytes kept)|2|", 0) == 0);
}
