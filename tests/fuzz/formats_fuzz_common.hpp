#pragma once
// Shared body of the text format fuzz targets: every input line either parses into a valid
// JSON document or is rejected with a reason; nothing crashes, leaks or reads out of bounds.
// Targets: formats_{alb,vpcflow,squid,access_log}.cpp, each linked with the sds library (or just
// lib/sds/formats/*.cpp, core/{ip,time}.cpp, json/{builder,escape}.cpp), simdjson and libcrypto,
// under clang -fsanitize=fuzzer,address,undefined. Seed corpora: tests/data/formats/* and the
// Elastic samples in ../shared/testdata.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sds/formats/text_format.hpp"

namespace sds::fuzz {

template <class Parse>
void each_line(const uint8_t* data, size_t size, Parse&& parse) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    static json::doc_builder doc;
    static simdjson::dom::parser parser;
    static std::string out;
    while (!in.empty()) {
        size_t nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        doc.clear();
        formats::parse_status st = parse(line, doc);
        if (!st) {
            if (st.err().message.empty()) std::abort();
            continue;
        }
        out.clear();
        doc.serialize(out);
        if (parser.parse(out).error()) std::abort();  // the builder must always write valid JSON
    }
}

}  // namespace sds::fuzz
