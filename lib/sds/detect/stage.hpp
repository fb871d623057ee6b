#pragma once
// sds-score's detection stage: Sigma rules (files/folders, repeatable) and the built-in pack,
// evaluated on each record; a match adds the alert fields (see alerts.hpp).
#include <memory>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/score/stage.hpp"

namespace sds::detect {

struct stage_options {
    std::vector<std::string> sigma;         // rule files or folders
    bool builtin = false;                   // the built-in pack
    std::vector<std::string> placeholders;  // NAME=V1,V2
    std::string sg_allowed_ports = "80,443";
    bool alerts_only = false;
    bool any() const { return builtin || !sigma.empty(); }
};

void add_options(cli::tool& t, stage_options& o);

// Loads the rules (refusals are warned about and counted); nullptr + err on a usage error.
std::unique_ptr<score::record_stage> make_stage(cli::tool& t, const stage_options& o, exit_code& err);

}  // namespace sds::detect
