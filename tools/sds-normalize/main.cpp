// sds-normalize: raw security log records (NDJSON from sds-fetch) to ECS documents.
#include "sds/cli/tool.hpp"
#include "sds/normalize/normalize.hpp"
#include "sds_normalize_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-normalize", "turn raw AWS and network security log records into ECS documents",
                        sds_manual::text);
    sds::normalize::options opt;
    sds::normalize::add_options(tool, opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] { return sds::normalize::run(tool, opt); });
}
