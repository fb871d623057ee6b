#pragma once
// Shared body of the sds-normalize fuzz targets: every input line goes through the driver (with
// a forced format, or auto); it either becomes one valid JSON document line with @timestamp and
// event.id, or is rejected with a reason. Nothing crashes, leaks or reads out of bounds.
// Targets: normalize_{cloudtrail,waf,suricata,guardduty,securityhub,health,auto}.cpp, linked with the sds library, simdjson
// and libcrypto, under clang -fsanitize=fuzzer,address,undefined. Seed corpora:
// tests/golden/sds-normalize/*/input.ndjson and the Elastic samples in ../shared/testdata.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "sds/normalize/normalize.hpp"

namespace sds::fuzz {

inline void normalize_lines(const uint8_t* data, size_t size, const char* format) {
    static std::unique_ptr<normalize::normalizer> norm = [format] {
        normalize::options o;
        o.format = format;
        o.keep_original = true;
        o.ingested_time = "2025-01-01T00:00:00Z";
        auto n = normalize::normalizer::make(o);
        if (!n) std::abort();
        return std::move(*n);
    }();
    static simdjson::dom::parser parser;
    static std::string out;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (!in.empty()) {
        size_t nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        out.clear();
        auto st = norm->process_line(line, out);
        if (!st) {
            if (st.err().message.empty() || !out.empty()) std::abort();
            continue;
        }
        if (norm->was_header()) continue;
        if (out.empty() || out.back() != '\n') std::abort();
        // One input line may fan out into several documents (Security Hub findings[]): each
        // line of the output must be a valid JSON object with a timestamp and an id.
        std::string_view docs(out);
        while (!docs.empty()) {
            size_t end = docs.find('\n');
            if (end == std::string_view::npos || end == 0) std::abort();
            simdjson::dom::element doc;
            if (parser.parse(docs.data(), end).get(doc)) std::abort();  // always valid JSON
            if (doc["@timestamp"].error() || doc["event"]["id"].error()) std::abort();
            docs.remove_prefix(end + 1);
        }
    }
}

}  // namespace sds::fuzz
