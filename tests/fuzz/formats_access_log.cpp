// libFuzzer target: NGINX/Apache access log lines, both flavours.
#include "formats_fuzz_common.hpp"
#include "sds/formats/access_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    sds::fuzz::each_line(data, size, [](std::string_view line, sds::json::doc_builder& doc) {
        (void)sds::formats::looks_like_access_log(line);
        auto flavour = sds::formats::guess_access_log_flavour(line);
        return sds::formats::parse_access_log(line, doc, flavour);
    });
    return 0;
}
