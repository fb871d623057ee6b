// sds-scan: TCP connect scan, banners and TLS inspection of our own hosts, as NDJSON;
// `sds-scan plan` spreads targets over the buckets of a day for schedulers.
#include "sds/cli/tool.hpp"
#include "sds/scan/plan.hpp"
#include "sds/scan/scan.hpp"
#include "sds_scan_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-scan", "scan our own hosts: open TCP ports, banners, TLS and certificate facts, as NDJSON",
                        sds_manual::text);
    sds::scan::options opt;
    sds::scan::add_options(tool, opt);
    sds::scan::plan_options plan_opt;
    CLI::App* plan = tool.app().add_subcommand("plan", "spread targets over the buckets of a window: "
                                                       "each gets a scheduled_at");
    plan->fallthrough();
    sds::scan::add_plan_options(tool, *plan, plan_opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    if (plan->parsed()) return tool.run([&] { return sds::scan::run_plan(tool, plan_opt); });
    return tool.run([&] { return sds::scan::run(tool, opt); });
}
