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

template <class List>
void json_array(std::string& out, const List& v) {
    out.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        out.append(v[i]);
    }
    out.push_back(']');
}

std::string json_string(std::string_view s) {
    std::string q;
    json::append_string_lossy(q, s);
    return q;
}

void add_unique(std::vector<std::string_view>& list, std::string_view x) {
    if (std::find(list.begin(), list.end(), x) == list.end()) list.push_back(x);
}

}  // namespace

alert_writer::alert_writer(const ruleset& rs) : rs_(rs), f_(rs.size()) {
    for (size_t i = 0; i < rs.size(); ++i) {
        const rule_meta& m = rs.meta(i);
        fragments& f = f_[i];
        for (const auto& t : m.tags) {
            if (auto x = technique_of(t); !x.empty()) f.techniques.push_back(json_string(x));
            if (auto x = tactic_of(t); !x.empty()) f.tactics.push_back(json_string(x));
        }
        f.id = json_string(m.id);
        f.name = json_string(m.title);
        f.description = json_string(m.description);
        if (!m.references.empty()) f.reference = json_string(m.references.front());
        if (!m.author.empty()) f.author = json_string(m.author);
        f.ruleset = json_string(rs.ruleset_of(i));
        json::append_int(f.risk, m.risk_score);
        f.event = "{\"kind\":\"alert\",\"severity\":" + f.risk + ",\"risk_score\":" + f.risk + "}";
        f.rule = "{\"id\":" + f.id + ",\"uuid\":" + f.id + ",\"name\":" + f.name + ",\"description\":" + f.description;
        if (!f.reference.empty()) f.rule += ",\"reference\":" + f.reference;
        if (!f.author.empty()) f.rule += ",\"author\":" + f.author;
        f.rule += ",\"ruleset\":" + f.ruleset + "}";
        std::string& e = f.entry;
        e = "{\"rule\":{\"id\":" + f.id + ",\"name\":" + f.name + ",\"ruleset\":" + f.ruleset + ",\"level\":";
        json::append_string_lossy(e, m.level);
        e += "},\"risk_score\":" + f.risk;
        if (!f.techniques.empty() || !f.tactics.empty()) {
            e += ",\"threat\":{\"framework\":\"MITRE ATT&CK\",\"technique\":{\"id\":";
            json_array(e, f.techniques);
            e += "},\"tactic\":{\"name\":";
            json_array(e, f.tactics);
            e += "}}";
        }
    }
}

void alert_writer::add(const std::vector<uint32_t>& hits, simdjson::dom::element record, json::patch& p,
                       bool matched) {
    if (hits.empty()) return;
    // The most severe match gives rule.*; ties keep load order.
    uint32_t top = hits[0];
    for (auto i : hits)
        if (rs_.meta(i).risk_score > rs_.meta(top).risk_score) top = i;
    tech_.clear();
    tac_.clear();
    top_command_.clear();
    for (auto i : hits) {
        for (const auto& x : f_[i].techniques) add_unique(tech_, x);
        for (const auto& x : f_[i].tactics) add_unique(tac_, x);
    }
    const fragments& t = f_[top];
    // A member the record does not have and no earlier stage edited is written as one new
    // pre-serialised object: the same JSON, in the same order, as the separate edits below
    // would build, for a fraction of the patch work.
    simdjson::dom::object obj;
    const bool is_object = !record.get_object().get(obj);
    auto fresh = [&](std::string_view member) {
        if (!is_object || p.touches(member)) return false;
        if (int has = matched ? rs_.matched_has(member) : -1; has >= 0) return has == 0;
        simdjson::dom::element v;
        return obj.at_key(member).get(v) != simdjson::SUCCESS;
    };
    if (fresh("event")) {
        p.set_new("event", t.event);
    } else {
        p.set_raw("event.kind", "\"alert\"");
        p.set_raw("event.severity", t.risk);
        p.set_raw("event.risk_score", t.risk);
    }
    if (fresh("rule")) {
        p.set_new("rule", t.rule);
    } else {
        p.set_raw("rule.id", t.id);
        p.set_raw("rule.uuid", t.id);
        p.set_raw("rule.name", t.name);
        p.set_raw("rule.description", t.description);
        if (!t.reference.empty()) p.set_raw("rule.reference", t.reference);
        if (!t.author.empty()) p.set_raw("rule.author", t.author);
        p.set_raw("rule.ruleset", t.ruleset);
    }
    if (!tech_.empty() || !tac_.empty()) {
        if (fresh("threat")) {
            p.set_new_with("threat", [&](std::string& o) {
                o += "{\"framework\":\"MITRE ATT&CK\",\"technique\":{\"id\":";
                json_array(o, tech_);
                o += "},\"tactic\":{\"name\":";
                json_array(o, tac_);
                o += "}}";
            });
        } else {
            p.set_raw("threat.framework", "\"MITRE ATT&CK\"");
            p.set_with("threat.technique.id", [&](std::string& o) { json_array(o, tech_); });
            p.set_with("threat.tactic.name", [&](std::string& o) { json_array(o, tac_); });
        }
    }
    auto alerts = [&](std::string& o) {
        o.push_back('[');
        for (size_t k = 0; k < hits.size(); ++k) {
            if (k) o.push_back(',');
            o += f_[hits[k]].entry;
            command_.clear();
            if (rs_.render_remediation(hits[k], record, command_)) {
                if (hits[k] == top) top_command_ = command_;
                o += ",\"response\":{\"command\":";
                json::append_string_lossy(o, command_);
                o.push_back('}');
            }
            o.push_back('}');
        }
        o.push_back(']');
    };
    if (fresh("sds")) {
        p.set_new_with("sds", [&](std::string& o) {
            o += "{\"alerts\":";
            alerts(o);
            if (!top_command_.empty()) {
                o += ",\"response\":{\"command\":";
                json::append_string_lossy(o, top_command_);
                o.push_back('}');
            }
            o.push_back('}');
        });
    } else {
        p.set_with("sds.alerts", alerts);
        if (!top_command_.empty())
            p.set_with("sds.response.command", [&](std::string& o) { json::append_string_lossy(o, top_command_); });
    }
}

void add_alert_fields(const ruleset& rs, const std::vector<uint32_t>& hits, simdjson::dom::element record,
                      json::patch& p) {
    alert_writer(rs).add(hits, record, p);
}

}  // namespace sds::detect
