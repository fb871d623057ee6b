// sds-fetch: pull raw log records out of files, folders, stdin (and S3) as NDJSON.
#include "sds/cli/tool.hpp"
#include "sds/fetch/fetch.hpp"
#include "sds_fetch_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-fetch", "pull raw security log records out of files, folders and stdin as NDJSON",
                        sds_manual::text);
    sds::fetch::options opt;
    sds::fetch::add_options(tool, opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] { return sds::fetch::run(tool, opt); });
}
