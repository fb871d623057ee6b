// sds-score: learn which entities use which addresses, score a stream against it, and raise
// alerts from Sigma rules.
#include "sds/cli/tool.hpp"
#include "sds/detect/stage.hpp"
#include "sds/score/score.hpp"
#include "sds_score_manual.hpp"

int main(int argc, char** argv) {
    sds::cli::tool tool("sds-score", "score how unusual an address is for the entity using it (IP-Insights-style)",
                        sds_manual::text);
    sds::score::options opt;
    sds::score::add_options(tool, opt);
    sds::detect::stage_options rules;
    sds::detect::add_options(tool, rules);
    if (auto code = tool.parse(argc, argv)) return *code;
    return tool.run([&] {
        bool scoring = !(opt.train_cmd && opt.train_cmd->parsed()) && !(opt.eval_cmd && opt.eval_cmd->parsed());
        if (!scoring || !rules.any()) return sds::score::run(tool, opt);
        sds::exit_code err = sds::exit_code::ok;
        std::vector<std::unique_ptr<sds::score::record_stage>> extra;
        auto stage = sds::detect::make_stage(tool, rules, err);
        if (!stage) return err;
        extra.push_back(std::move(stage));
        return sds::score::run_score(tool, opt, std::move(extra));
    });
}
