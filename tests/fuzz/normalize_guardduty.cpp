// libFuzzer target: sds-normalize with --format guardduty, one record per input line.
#include "normalize_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    sds::fuzz::normalize_lines(data, size, "guardduty");
    return 0;
}
