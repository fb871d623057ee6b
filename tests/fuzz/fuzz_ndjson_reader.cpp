// NDJSON reader over the line splitter and the decoder: no crash, no read past the padding,
// every record is a JSON object, every line is accounted for, and the result does not depend
// on how the input is chunked. First byte: chunk size; second: --max-record-bytes.
#include <simdjson.h>

#include <string>

#include "fuzz_support.hpp"
#include "sds/io/ndjson.hpp"

namespace {

struct sink final : sds::io::record_sink {
    std::string log;
    size_t records = 0, rejects = 0;
    simdjson::dom::parser check;
    sds::status on_record(const sds::io::record& r) override {
        SDS_FUZZ_CHECK(r.doc.is_object());
        simdjson::dom::element e;
        SDS_FUZZ_CHECK(!check.parse(r.text.data(), r.text.size(), true).get(e) && e.is_object());
        SDS_FUZZ_CHECK(r.text.find('\n') == std::string_view::npos);
        ++records;
        log += "R" + std::to_string(r.line) + ":" + std::string(r.text) + "\n";
        return sds::status::success();
    }
    void on_reject(std::string_view reason, std::string_view, uint64_t line, std::string_view text) override {
        ++rejects;
        SDS_FUZZ_CHECK(line >= 1);
        log += "X" + std::to_string(line) + ":" + std::string(reason) + "|" + std::string(text) + "\n";
    }
};

struct result {
    std::string log;
    bool ok;
    size_t records, rejects;
    uint64_t lines;
};

result run(std::string_view data, size_t chunk, size_t max) {
    sink s;
    sds::io::ndjson_reader reader(s, "fuzz");
    sds::io::line_splitter splitter(reader, max);
    sds::io::auto_decoder decoder(splitter, 4096);
    bool ok = static_cast<bool>(sds::fuzz::feed(decoder, data, chunk));
    return {s.log, ok, s.records, s.rejects, splitter.lines()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 2) return 0;
    size_t chunk = 1 + bytes[0] % 64;
    size_t max = 8 + bytes[1] * 4;
    std::string_view data(reinterpret_cast<const char*>(bytes) + 2, size - 2);
    result whole = run(data, 0, max);
    result pieces = run(data, chunk, max);
    SDS_FUZZ_CHECK(whole.ok == pieces.ok);
    if (whole.ok) {
        // Same records and rejects, same line numbers, whatever the chunking.
        SDS_FUZZ_CHECK(whole.log == pieces.log);
        SDS_FUZZ_CHECK(whole.records + whole.rejects <= whole.lines);
    }
    return 0;
}
