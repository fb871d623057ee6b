// libFuzzer target: ELB/ALB/NLB access and connection log lines.
#include "formats_fuzz_common.hpp"
#include "sds/formats/alb.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    sds::fuzz::each_line(data, size, [](std::string_view line, sds::json::doc_builder& doc) {
        (void)sds::formats::looks_like_elb(line);
        return sds::formats::parse_elb(line, doc);
    });
    return 0;
}
