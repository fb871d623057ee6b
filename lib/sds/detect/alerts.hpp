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

// Writes the alert fields of matches into a record's patch. Everything that depends on the
// rule alone (its rule.* strings, its sds.alerts[] entry, its ATT&CK ids and names) is
// serialised once when the writer is made; per record only the fragments of the matching
// rules are copied and the remediation command rendered, in reused buffers.
class alert_writer {
public:
    explicit alert_writer(const ruleset& rs);
    // Adds the alert fields for `hits` (rule indices of the ruleset) to `p`. `matched`: the
    // record is the one the ruleset's match() saw last (what it noted of it is used).
    void add(const std::vector<uint32_t>& hits, simdjson::dom::element record, json::patch& p, bool matched = false);

private:
    struct fragments {
        std::string entry;  // sds.alerts[] element without the closing brace (no response yet)
        std::string id, name, description, reference, author, ruleset;  // JSON strings
        std::string risk;                                                // JSON number
        std::vector<std::string> techniques, tactics;                    // JSON strings
        std::string event, rule;  // whole event / rule objects, for records without them
    };
    const ruleset& rs_;
    std::vector<fragments> f_;
    std::vector<std::string_view> tech_, tac_;
    std::string command_, top_command_;
};

// Adds the alert fields for `hits` (rule indices of rs) to `p` (a one-off alert_writer).
void add_alert_fields(const ruleset& rs, const std::vector<uint32_t>& hits, simdjson::dom::element record,
                      json::patch& p);

}  // namespace sds::detect
