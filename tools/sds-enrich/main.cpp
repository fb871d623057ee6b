// sds-enrich: GeoIP/ASN and threat-intelligence matches for ECS records.
#include "sds/cli/tool.hpp"
#include "sds/enrich/enrich.hpp"
#include "sds_enrich_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-enrich", "add GeoIP/ASN and threat-intelligence matches to ECS records", sds_manual::text);
    sds::enrich::options opt;
    sds::enrich::add_options(tool, opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] { return sds::enrich::run(tool, opt); });
}
