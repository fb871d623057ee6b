#include "sds/detect/alerts.hpp"

#include <algorithm>
#include <set>

#include "sds/detect_builtin_rules.hpp"
#include "sds/json/escape.hpp"

namespace sds::detect {

const std::vector<builtin_rule>& builtin_rules() {
    static const std::vector<builtin_rule> rules = [] {
        std::vector<builtin_rule> v;
        for (const auto& r : sds_builtin_rules::rules) v.push_back({r.name, r.text});
        return v;
    }();
    return rules;
}

status load_builtin(ruleset& rs) {
    for (const auto& r : builtin_rules())
        if (auto s = rs.load_text(r.text, std::string("builtin:") + std::string(r.name), "sds-builtin"); !s) return s;
    return status::success();
}

std::string technique_of(std::string_view tag) {
    if (tag.rfind("attack.t", 0) != 0 || tag.size() < 9 || tag[8] < '0' || tag[8] > '9') return {};
    std::string id(tag.substr(7));
    for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
}

std::string tactic_of(std::string_view tag) {
    static constexpr std::string_view tactics[] = {
        "reconnaissance", "resource_development", "initial_access", "execution", "persistence",
        "privilege_escalation", "defense_evasion", "credential_access", "discovery", "lateral_movement",
        "collection", "command_and_control", "exfiltration", "impact"};
    if (tag.rfind("attack.", 0) != 0) return {};
    std::string t(tag.substr(7));
    std::replace(t.begin(), t.end(), '-', '_');
    if (std::find(std::begin(tactics), std::end(tactics), t) == std::end(tactics)) return {};
    std::string name;
    bool up = true;
    size_t start = 0;
    while (start <= t.size()) {
        size_t us = t.find('_', start);
        std::string word = t.substr(start, us == std::string::npos ? std::string::npos : us - start);
        if (!name.empty()) name += ' ';
        if (word == "and") name += word;
        else {
            if (up && !word.empty()) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
            name += word;
        }
        if (us == std::string::npos) break;
        start = us + 1;
    }
    return name;
}

namespace {

void string_array(std::string& out, const std::vector<std::string>& v) {
    out.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        json::append_string_lossy(out, v[i]);
    }
    out.push_back(']');
}

}  // namespace

void add_alert_fields(const ruleset& rs, const std::vector<uint32_t>& hits, simdjson::dom::element record,
                      json::patch& p) {
    if (hits.empty()) return;
    // The most severe match gives rule.*; ties keep load order.
    uint32_t top = hits[0];
    for (auto i : hits)
        if (rs.meta(i).risk_score > rs.meta(top).risk_score) top = i;
    std::vector<std::string> techniques, tactics;
    std::string alerts = "[";
    std::string top_command;
    for (size_t k = 0; k < hits.size(); ++k) {
        const rule_meta& m = rs.meta(hits[k]);
        std::vector<std::string> tech, tac;
        for (const auto& t : m.tags) {
            if (auto x = technique_of(t); !x.empty()) tech.push_back(x);
            if (auto x = tactic_of(t); !x.empty()) tac.push_back(x);
        }
        for (auto& x : tech)
            if (std::find(techniques.begin(), techniques.end(), x) == techniques.end()) techniques.push_back(x);
        for (auto& x : tac)
            if (std::find(tactics.begin(), tactics.end(), x) == tactics.end()) tactics.push_back(x);
        std::string command = rs.render_remediation(hits[k], record);
        if (hits[k] == top) top_command = command;
        if (k) alerts += ',';
        alerts += "{\"rule\":{\"id\":";
        json::append_string_lossy(alerts, m.id);
        alerts += ",\"name\":";
        json::append_string_lossy(alerts, m.title);
        alerts += ",\"ruleset\":";
        json::append_string_lossy(alerts, rs.ruleset_of(hits[k]));
        alerts += ",\"level\":";
        json::append_string_lossy(alerts, m.level);
        alerts += "},\"risk_score\":";
        json::append_int(alerts, m.risk_score);
        if (!tech.empty() || !tac.empty()) {
            alerts += ",\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{\"id\":";
            string_array(alerts, tech);
            alerts += "},\"tactic\":{\"name\":";
            string_array(alerts, tac);
            alerts += "}}";
        }
        if (!command.empty()) {
            alerts += ",\"response\":{\"command\":";
            json::append_string_lossy(alerts, command);
            alerts += '}';
        }
        alerts += '}';
    }
    alerts += ']';

    const rule_meta& m = rs.meta(top);
    p.set_raw("event.kind", "\"alert\"");
    std::string v;
    json::append_int(v, m.risk_score);
    p.set_raw("event.severity", v);
    p.set_raw("event.risk_score", v);
    p.set_string("rule.id", m.id);
    p.set_string("rule.uuid", m.id);
    p.set_string("rule.name", m.title);
    p.set_string("rule.description", m.description);
    if (!m.references.empty()) p.set_string("rule.reference", m.references.front());
    if (!m.author.empty()) p.set_string("rule.author", m.author);
    p.set_string("rule.ruleset", rs.ruleset_of(top));
    if (!techniques.empty() || !tactics.empty()) {
        p.set_raw("threat.framework", "\"MITRE ATT&CK\"");
        v.clear();
        string_array(v, techniques);
        p.set_raw("threat.technique.id", v);
        v.clear();
        string_array(v, tactics);
        p.set_raw("threat.tactic.name", v);
    }
    p.set_raw("sds.alerts", alerts);
    if (!top_command.empty()) p.set_string("sds.response.command", top_command);
}

}  // namespace sds::detect
