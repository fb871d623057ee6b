// sds-scan: TCP connect scan, banners and TLS inspection of our own hosts, as NDJSON.
#include "sds/cli/tool.hpp"
#include "sds/scan/scan.hpp"
#include "sds_scan_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-scan", "scan our own hosts: open TCP ports, banners, TLS and certificate facts, as NDJSON",
                        sds_manual::text);
    sds::scan::options opt;
    sds::scan::add_options(tool, opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] { return sds::scan::run(tool, opt); });
}
