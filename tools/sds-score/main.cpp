// sds-score: learn which entities use which addresses, and score a stream against it.
#include "sds/cli/tool.hpp"
#include "sds/score/score.hpp"
#include "sds_score_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-score", "score how unusual an address is for the entity using it (IP-Insights-style)",
                        sds_manual::text);
    sds::score::options opt;
    sds::score::add_options(tool, opt);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] { return sds::score::run(tool, opt); });
}
