// libFuzzer target: VPC Flow Logs lines, header lines included (one parser per input, so a
// header in the input changes how the following lines are read).
#include "formats_fuzz_common.hpp"
#include "sds/formats/vpcflow.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    sds::formats::vpcflow_parser parser;
    sds::fuzz::each_line(data, size, [&parser](std::string_view line, sds::json::doc_builder& doc) {
        (void)sds::formats::looks_like_vpcflow(line);
        bool header = false;
        return parser.parse(line, doc, header);
    });
    return 0;
}
