// The NDJSON input path: auto_decoder -> line_splitter -> ndjson_reader, fed the same bytes in
// every chunking, must give the same records and rejects (line numbers included).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../support/chunks.hpp"
#include "sds/io/ndjson.hpp"

using namespace sds;
using sds::test::feed_chunks;
using sds::test::feed_cuts;
using sds::test::for_each_split;

namespace {

struct collect final : io::record_sink {
    std::vector<std::string> log;
    size_t records = 0, rejects = 0;
    status on_record(const io::record& r) override {
        ++records;
        // The view must be usable for a second parse (padding contract) and be the object.
        CHECK(r.doc.is_object());
        log.push_back("R" + std::to_string(r.line) + ":" + std::string(r.text));
        return status::success();
    }
    void on_reject(std::string_view reason, std::string_view, uint64_t line, std::string_view text) override {
        ++rejects;
        log.push_back("X" + std::to_string(line) + ":" + std::string(reason) + "|" + std::string(text));
    }
};

struct pipeline {
    collect sink;
    io::ndjson_reader reader{sink, "test"};
    io::line_splitter splitter;
    io::auto_decoder decoder;
    explicit pipeline(size_t max_bytes = 16u << 20, size_t out_chunk = 1 << 20)
        : splitter(reader, max_bytes), decoder(splitter, out_chunk) {}
};

std::vector<std::string> run_whole(std::string_view input, size_t max_bytes = 16u << 20) {
    pipeline p(max_bytes);
    REQUIRE(feed_cuts(p.decoder, input, {}));
    return p.sink.log;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& x : v) s += x + "\n";
    return s;
}

std::string cuts_text(const std::vector<size_t>& cuts) {
    std::string s;
    for (auto c : cuts) s += std::to_string(c) + ",";
    return s;
}

// Checks that every chunking of `input` yields `expected`.
void check_every_split(std::string_view input, const std::vector<std::string>& expected, size_t max_bytes,
                       size_t out_chunk = 1 << 20) {
    size_t runs = 0;
    for_each_split(input, [&](const std::vector<size_t>& cuts) {
        pipeline p(max_bytes, out_chunk);
        auto s = feed_cuts(p.decoder, input, cuts);
        CHECK(s);
        if (p.sink.log != expected) {
            INFO("cuts: ", cuts_text(cuts));
            CHECK(join(p.sink.log) == join(expected));
        }
        ++runs;
    });
    CHECK(runs > input.size());
}

// A mixed stream: good records, CRLF, blank lines, bad JSON, not-an-object, invalid UTF-8,
// records exactly at the limit and one over, and no final newline.
const size_t mixed_max = 40;
const std::string rec40 = R"({"k":")" + std::string(40 - 9, 'x') + R"("} )";  // 40 bytes
const std::string rec41 = R"({"k":")" + std::string(41 - 9, 'y') + R"("} )";  // 41 bytes

std::string mixed_input() {
    return std::string("{\"a\":1}\n") +          // 1
           "\r\n" +                              // 2 blank (CRLF)
           "{\"b\":\"crlf\"}\r\n" +              // 3
           "   \t \n" +                          // 4 blank (spaces/tabs)
           "[1,2,3]\n" +                         // 5 not an object
           "{\"c\":tru}\n" +                     // 6 bad literal
           "{\"d\":\"\xff\xfe\"}\n" +            // 7 invalid UTF-8
           rec40 + "\n" +                        // 8 exactly max
           rec41 + "\n" +                        // 9 one over: rejected whole
           rec40 + "\r\n" +                      // 10 exactly max + CR: fine
           "\"just a string\"\n" +               // 11 not an object
           "{\"e\":\"\xc3\xa9t\xc3\xa9\"}\n" +   // 12 valid UTF-8
           "\n" +                                // 13 blank
           "{\"last\":true}";                    // 14 no final newline
}

}  // namespace

TEST_CASE("ndjson_reader: mixed stream gives each line its verdict and its line number") {
    auto log = run_whole(mixed_input(), mixed_max);
    std::vector<std::string> expected = {
        "R1:{\"a\":1}",
        "R3:{\"b\":\"crlf\"}",
        "X5:not a JSON object|[1,2,3]",
        "X6:invalid JSON (bad literal)|{\"c\":tru}",
        "X7:invalid UTF-8|{\"d\":\"\xff\xfe\"}",
        "R8:" + rec40,
        "X9:record of 41 bytes exceeds --max-record-bytes (first bytes kept)|" + rec41,
        "R10:" + rec40,
        "X11:not a JSON object|\"just a string\"",
        "R12:{\"e\":\"\xc3\xa9t\xc3\xa9\"}",
        "R14:{\"last\":true}",
    };
    CHECK(log == expected);
}

TEST_CASE("ndjson_reader: same output for the input split at every position and in chunks of 1 byte up") {
    auto input = mixed_input();
    check_every_split(input, run_whole(input, mixed_max), mixed_max);
}

TEST_CASE("ndjson_reader: CRLF oversize line reports the same size whatever the chunking") {
    // The '\r' of a CRLF ending is not content: a 41-byte record + CR is 41 bytes everywhere.
    std::string input = "{\"a\":1}\r\n" + rec41 + "\r\n{\"b\":2}\r\n";
    auto log = run_whole(input, mixed_max);
    REQUIRE(log.size() == 3);
    CHECK(log[1] == "X2:record of 41 bytes exceeds --max-record-bytes (first bytes kept)|" + rec41);
    check_every_split(input, log, mixed_max);
}

TEST_CASE("ndjson_reader: oversize record is rejected whole and the stream resumes at the next newline") {
    const size_t max = 64;
    std::string huge = "{\"big\":\"" + std::string(5000, 'z') + "\"}";
    std::string input = "{\"before\":1}\n" + huge + "\n{\"after\":2}\n";
    for (size_t chunk : {size_t(1), size_t(7), size_t(63), size_t(64), size_t(65), size_t(1000), input.size()}) {
        CAPTURE(chunk);
        pipeline p(max);
        REQUIRE(feed_chunks(p.decoder, input, chunk));
        REQUIRE(p.sink.log.size() == 3);
        CHECK(p.sink.log[0] == "R1:{\"before\":1}");
        // Rejected, never truncated into a record; the size is the whole line's; the text kept
        // for the dead letter is its first bytes (at most 1 KiB).
        CHECK(p.sink.log[1] ==
              "X2:record of 5010 bytes exceeds --max-record-bytes (first bytes kept)|" + huge.substr(0, 1024));
        CHECK(p.sink.log[2] == "R3:{\"after\":2}");
    }
}

TEST_CASE("ndjson_reader: oversize line at end of input without newline is still reported") {
    const size_t max = 16;
    std::string input = "{\"a\":1}\n{\"b\":\"" + std::string(100, 'q') + "\"}";
    check_every_split(input,
                      {"R1:{\"a\":1}", "X2:record of 108 bytes exceeds --max-record-bytes (first bytes kept)|" +
                                           input.substr(8)},
                      max);
}

TEST_CASE("ndjson_reader: limit smaller than the kept prefix never reads past the chunk") {
    // max_bytes < 1 KiB: an unfinished oversize tail must keep only the bytes it has.
    const size_t max = 8;
    std::string input = "{\"a\":123456789}\n{}\n";
    check_every_split(input,
                      {"X1:record of 15 bytes exceeds --max-record-bytes (first bytes kept)|{\"a\":123456789}",
                       "R2:{}"},
                      max);
}

TEST_CASE("ndjson_reader: records exactly the read block size, and one byte either side") {
    // Through pump_fd with a block equal to the record, record+newline, and one less.
    std::string rec = "{\"pad\":\"" + std::string(100, 'p') + "\"}";
    std::string input = rec + "\n" + rec + "\n" + rec;
    char path[] = "/tmp/sds-ndjson-test-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    for (size_t block : {rec.size() - 1, rec.size(), rec.size() + 1, rec.size() + 2}) {
        CAPTURE(block);
        ::lseek(fd, 0, SEEK_SET);
        pipeline p(rec.size());
        auto r = io::pump_fd(fd, "test", p.decoder, block);
        REQUIRE(r);
        CHECK(r->bytes == input.size());
        REQUIRE(p.decoder.finish());
        CHECK(p.sink.records == 3);
        CHECK(p.sink.rejects == 0);
    }
    ::close(fd);
    ::unlink(path);
}

TEST_CASE("ndjson_reader: invalid UTF-8 at a chunk end is rejected alone; a split valid sequence is kept") {
    // "é" (c3 a9) split across chunks is fine; a lone c3 before the closing quote is not.
    std::string good = "{\"s\":\"caf\xc3\xa9\"}";
    std::string bad = "{\"s\":\"caf\xc3\"}";
    std::string input = good + "\n" + bad + "\n" + good + "\n";
    std::vector<std::string> expected = {"R1:" + good, "X2:invalid UTF-8|" + bad, "R3:" + good};
    CHECK(run_whole(input) == expected);
    // Cut right inside the multi-byte sequence and right after the bad byte.
    for (size_t cut : {good.size() - 3, good.size() - 2, good.size() + 1 + bad.size() - 2}) {
        pipeline p;
        REQUIRE(feed_cuts(p.decoder, input, {cut}));
        CHECK(p.sink.log == expected);
    }
    check_every_split(input, expected, 1 << 20);
}

TEST_CASE("ndjson_reader: empty input, only newlines, and only blanks give nothing") {
    for (std::string input : {std::string(), std::string("\n"), std::string("\n\n\r\n"), std::string("  \t")}) {
        pipeline p;
        REQUIRE(feed_cuts(p.decoder, input, {}));
        CHECK(p.sink.log.empty());
    }
}

TEST_CASE("ndjson_reader: short inputs (under the 4 sniffed bytes) are read as plain text") {
    CHECK(run_whole("{}") == std::vector<std::string>{"R1:{}"});
    CHECK(run_whole("{}\n") == std::vector<std::string>{"R1:{}"});
    CHECK(run_whole("1\n") == std::vector<std::string>{"X1:not a JSON object|1"});
    check_every_split("{}\n{}", {"R1:{}", "R2:{}"}, 1 << 20);
}

TEST_CASE("ndjson_reader: truncated record at end of input is rejected with its line") {
    auto log = run_whole("{\"a\":1}\n{\"b\":");
    REQUIRE(log.size() == 2);
    CHECK(log[1].rfind("X2:invalid JSON", 0) == 0);
}

TEST_CASE("ndjson_reader: the parser is reused across records of very different sizes") {
    std::string big = "{\"big\":[" ;
    for (int i = 0; i < 2000; ++i) big += (i ? "," : "") + std::to_string(i);
    big += "]}";
    std::string input = "{}\n" + big + "\n{\"x\":1}\n" + big + "\n";
    pipeline p;
    REQUIRE(feed_chunks(p.decoder, input, 333));
    CHECK(p.sink.records == 4);
    CHECK(p.sink.rejects == 0);
}
