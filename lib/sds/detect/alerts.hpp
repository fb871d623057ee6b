#pragma once
// What a rule match adds to a record: event.kind "alert", rule.* of the most severe match,
// event.severity / event.risk_score from the rule level (low 21, medium 47, high 73,
// critical 99, as Elastic Security scores them), threat.* from the ATT&CK tags, one entry per
// matching rule in sds.alerts[], and the suggested remediation in sds.response.command.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sds/detect/sigma.hpp"
#include "sds/json/patch.hpp"

namespace sds::detect {

// The rules compiled into sds (lib/sds/detect/rules/*.yml), as (file name, YAML text).
struct builtin_rule {
    std::string_view name;
    std::string_view text;
};
const std::vector<builtin_rule>& builtin_rules();
status load_builtin(ruleset& rs);

// ATT&CK tag helpers: "attack.t1078.004" -> "T1078.004"; "attack.defense_evasion" -> "Defense Evasion".
std::string technique_of(std::string_view tag);
std::string tactic_of(std::string_view tag);

// Adds the alert fields for `hits` (rule indices of rs) to `p`.
void add_alert_fields(const ruleset& rs, const std::vector<uint32_t>& hits, simdjson::dom::element record,
                      json::patch& p);

}  // namespace sds::detect
