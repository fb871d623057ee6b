// libFuzzer target: Squid access.log lines (native and extended).
#include "formats_fuzz_common.hpp"
#include "sds/formats/squid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    sds::fuzz::each_line(data, size, [](std::string_view line, sds::json::doc_builder& doc) {
        (void)sds::formats::looks_like_squid(line);
        return sds::formats::parse_squid(line, doc);
    });
    return 0;
}
