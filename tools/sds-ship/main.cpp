// sds-ship: NDJSON records into Elasticsearch/OpenSearch (_bulk), a file, or S3.
#include "sds/cli/tool.hpp"
#include "sds/ship/ship.hpp"
#include "sds_ship_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-ship", "load NDJSON records into Elasticsearch/OpenSearch, a file or S3, losing nothing",
                        sds_manual::text);
    sds::ship::options opt;
    sds::ship::add_options(tool, opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] { return sds::ship::run(tool, opt); });
}
