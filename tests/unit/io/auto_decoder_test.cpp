// auto_decoder: gzip (ISA-L) and zstd detected by magic bytes and decoded in-stream, whatever
// the chunking; concatenated members; corrupt and truncated input reported after the good part.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/chunks.hpp"
#include "sds/io/stream.hpp"

using namespace sds;
using sds::test::feed_chunks;
using sds::test::feed_cuts;
using sds::test::for_each_split;

namespace {

struct bytes_sink final : io::chunk_consumer {
    std::string data;
    int finished = 0;
    status consume(std::string_view chunk) override {
        data.append(chunk);
        return status::success();
    }
    status finish() override {
        ++finished;
        return status::success();
    }
};

std::string lines(int n, int seed = 0) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += "{\"i\":" + std::to_string(i + seed) + ",\"v\":\"" + test::noise(static_cast<size_t>(i % 50), i + 1) +
             "\"}\n";
    return s;
}

struct decoded {
    status st;
    std::string data;
    io::compression kind;
};

decoded decode(std::string_view input, const std::vector<size_t>& cuts, size_t out_chunk = 1 << 20) {
    bytes_sink sink;
    io::auto_decoder dec(sink, out_chunk);
    auto s = feed_cuts(dec, input, cuts);
    return {s, sink.data, dec.detected()};
}

}  // namespace

TEST_CASE("auto_decoder: plain text passes through untouched") {
    std::string text = lines(20);
    auto d = decode(text, {});
    CHECK(d.st);
    CHECK(d.kind == io::compression::none);
    CHECK(d.data == text);
}

TEST_CASE("auto_decoder: gzip single member at every split and chunk size") {
    std::string text = lines(30);
    std::string gz = test::gzip(text);
    size_t runs = 0;
    for_each_split(gz, [&](const std::vector<size_t>& cuts) {
        auto d = decode(gz, cuts);
        CHECK(d.st);
        CHECK(d.kind == io::compression::gzip);
        if (d.data != text) CHECK(d.data.size() == text.size());
        CHECK(d.data == text);
        ++runs;
    });
    CHECK(runs > gz.size());
}

TEST_CASE("auto_decoder: concatenated gzip members are one stream, split at every position") {
    std::string a = lines(10), b = lines(7, 100), c = "{\"last\":1}\n";
    std::string gz = test::gzip(a) + test::gzip(b, 1) + test::gzip(c, 9);
    for_each_split(gz, [&](const std::vector<size_t>& cuts) {
        auto d = decode(gz, cuts);
        CHECK(d.st);
        CHECK(d.data == a + b + c);
    });
}

TEST_CASE("auto_decoder: empty gzip member between members and trailing zero bytes are tolerated") {
    std::string a = lines(3);
    std::string gz = test::gzip(a) + test::gzip("") + test::gzip(a) + std::string(5, '\0');
    for (size_t n : {size_t(1), size_t(2), size_t(13), gz.size()}) {
        bytes_sink sink;
        io::auto_decoder dec(sink);
        CHECK(feed_chunks(dec, gz, n));
        CHECK(sink.data == a + a);
        CHECK(sink.finished == 1);
    }
}

TEST_CASE("auto_decoder: gzip larger than the output chunk is delivered in pieces, all of it") {
    std::string text = lines(5000);
    std::string gz = test::gzip(text);
    for (size_t out_chunk : {size_t(4096), size_t(65536)}) {
        for (size_t n : {size_t(1000), size_t(4096), gz.size()}) {
            CAPTURE(out_chunk);
            CAPTURE(n);
            bytes_sink sink;
            io::auto_decoder dec(sink, out_chunk);
            CHECK(feed_chunks(dec, gz, n));
            CHECK(sink.data.size() == text.size());
            CHECK(sink.data == text);
            CHECK(dec.bytes_out() == text.size());
        }
    }
}

TEST_CASE("auto_decoder: truncated gzip keeps the decoded part and reports truncation") {
    std::string text = lines(2000);
    std::string gz = test::gzip(text);
    for (size_t cut : {gz.size() - 1, gz.size() - 4, gz.size() - 8, gz.size() / 2, size_t(12)}) {
        CAPTURE(cut);
        for (size_t n : {size_t(1), size_t(4096), cut}) {
            if (n == 1 && cut > 2000) continue;  // keep 1-byte runs short
            auto input = std::string_view(gz).substr(0, cut);
            bytes_sink sink;
            io::auto_decoder dec(sink);
            auto s = feed_chunks(dec, input, n);
            CHECK_FALSE(s);
            CHECK(s.err().code == exit_code::rejected);
            CHECK(s.err().message.find("truncated gzip") != std::string::npos);
            // Whatever was decoded is a prefix of the original.
            CHECK(text.compare(0, sink.data.size(), sink.data) == 0);
            if (cut >= gz.size() - 8) CHECK(sink.data == text);  // only the trailer is missing
        }
    }
}

TEST_CASE("auto_decoder: corrupt gzip data is an error, not garbage output") {
    std::string text = lines(500);
    std::string gz = test::gzip(text);
    int errors = 0;
    for (size_t pos = 10; pos < gz.size(); pos += 37) {
        std::string bad = gz;
        bad[pos] = static_cast<char>(bad[pos] ^ 0x55);
        auto d = decode(bad, {});
        // A flipped byte may still inflate to something, but then the CRC must catch it.
        if (d.st) CHECK(d.data == text);
        else {
            ++errors;
            CHECK(d.st.err().code == exit_code::rejected);
        }
    }
    CHECK(errors > 0);
    // A flipped CRC byte in the trailer is a checksum mismatch.
    std::string bad = gz;
    bad[gz.size() - 6] = static_cast<char>(bad[gz.size() - 6] ^ 1);
    auto d = decode(bad, {});
    REQUIRE_FALSE(d.st);
    CHECK(d.st.err().message.find("checksum") != std::string::npos);
}

TEST_CASE("auto_decoder: garbage after a gzip member is an error after the good data") {
    std::string text = lines(10);
    std::string gz = test::gzip(text) + "this is not gzip\n";
    auto d = decode(gz, {});
    CHECK_FALSE(d.st);
    CHECK(d.data == text);
}

TEST_CASE("auto_decoder: zstd at every split, multi-frame, truncated") {
    std::string text = lines(30);
    std::string z = test::zstd(text);
    for_each_split(z, [&](const std::vector<size_t>& cuts) {
        auto d = decode(z, cuts);
        CHECK(d.st);
        CHECK(d.kind == io::compression::zstd);
        CHECK(d.data == text);
    });
    std::string two = test::zstd(text) + test::zstd("{\"x\":1}\n", 19);
    auto d2 = decode(two, {7});
    CHECK(d2.st);
    CHECK(d2.data == text + "{\"x\":1}\n");
    auto d3 = decode(std::string_view(z).substr(0, z.size() - 3), {});
    REQUIRE_FALSE(d3.st);
    CHECK(d3.st.err().message.find("truncated zstd") != std::string::npos);
    std::string bad = z;
    bad[z.size() / 2] = static_cast<char>(bad[z.size() / 2] ^ 0xff);
    auto d4 = decode(bad, {});  // the frame checksum catches what the format cannot
    CHECK_FALSE(d4.st);
}

TEST_CASE("auto_decoder: input shorter than the magic is plain, including a lone 0x1f") {
    for (std::string in : {std::string("\x1f"), std::string("\x1f\x8b"), std::string("ab"), std::string()}) {
        bytes_sink sink;
        io::auto_decoder dec(sink);
        auto s = feed_chunks(dec, in, 1);
        if (in == "\x1f\x8b") {
            // A gzip magic with nothing after it is a truncated gzip stream.
            CHECK_FALSE(s);
        } else {
            CHECK(s);
            CHECK(sink.data == in);
            CHECK(sink.finished == 1);
        }
    }
}
