#include "sds/detect/stage.hpp"

#include <fmt/format.h>

#include "sds/detect/alerts.hpp"
#include "sds/json/escape.hpp"

namespace sds::detect {

namespace {

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> v;
    size_t start = 0;
    while (start <= s.size()) {
        size_t c = s.find(',', start);
        std::string item = s.substr(start, c == std::string::npos ? std::string::npos : c - start);
        if (!item.empty()) v.push_back(item);
        if (c == std::string::npos) break;
        start = c + 1;
    }
    return v;
}

class sigma_stage final : public score::record_stage {
public:
    sigma_stage(ruleset rs, bool alerts_only) : rs_(std::move(rs)), alerts_(rs_), alerts_only_(alerts_only) {}
    score::verdict process(const io::record& r, json::patch& edits) override {
        hits_.clear();
        rs_.match(r.doc, hits_);
        if (hits_.empty()) {
            score::verdict v;
            v.drop = alerts_only_;
            return v;
        }
        ++alerted_;
        alerts_.add(hits_, r.doc, edits, true);
        return {};
    }
    status finish(cli::tool& t) override {
        t.add_stat("alerts", std::to_string(alerted_));
        t.add_stat("rules", std::to_string(rs_.size()));
        t.add_stat("rules_refused", std::to_string(rs_.refused().size()));
        t.add_stat("rules_undispatched", std::to_string(rs_.undispatched()));
        return {};
    }

private:
    ruleset rs_;
    alert_writer alerts_;  // refers to rs_ (declared before it)
    bool alerts_only_;
    std::vector<uint32_t> hits_;
    uint64_t alerted_ = 0;
};

}  // namespace

void add_options(cli::tool& t, stage_options& o) {
    auto& app = t.app();
    app.add_option("--sigma", o.sigma, "Sigma rules: a YAML file or a folder of them (repeatable)")->type_name("PATH");
    app.add_flag("--builtin-rules", o.builtin,
                 "also run sds's built-in CloudTrail pack (security groups open to the world, root use, console "
                 "login without MFA, CloudTrail and GuardDuty tampering, keys for other users, public buckets)");
    app.add_option("--sigma-placeholder", o.placeholders,
                   "value list for a Sigma %placeholder% used with the expand modifier, as NAME=V1,V2 (repeatable)")
        ->type_name("NAME=LIST");
    app.add_option("--sg-allowed-ports", o.sg_allowed_ports,
                   "ports that may be open to 0.0.0.0/0 without an alert (built-in security-group rule)")
        ->type_name("LIST")
        ->capture_default_str();
    app.add_flag("--alerts-only", o.alerts_only, "write only records that match a rule (the rest count as filtered)");
}

std::unique_ptr<score::record_stage> make_stage(cli::tool& t, const stage_options& o, exit_code& err) {
    ruleset rs;
    rs.set_placeholder("sg_allowed_ports", split_list(o.sg_allowed_ports));
    for (const auto& p : o.placeholders) {
        size_t eq = p.find('=');
        if (eq == std::string::npos || eq == 0) {
            t.error(fmt::format("--sigma-placeholder: expected NAME=V1,V2, got '{}'", p));
            err = exit_code::usage;
            return nullptr;
        }
        rs.set_placeholder(p.substr(0, eq), split_list(p.substr(eq + 1)));
    }
    if (o.builtin) {
        if (auto s = load_builtin(rs); !s) {
            t.error(s.err().message);
            err = exit_code::internal;
            return nullptr;
        }
    }
    for (const auto& path : o.sigma) {
        if (auto s = rs.load_path(path); !s) {
            t.error(s.err().message);
            err = s.err().code;
            return nullptr;
        }
    }
    for (const auto& r : rs.refused()) t.warn(fmt::format("rule refused: {} ({})", r.file, r.reason));
    if (rs.size() == 0) {
        t.error("no usable rules loaded");
        err = exit_code::usage;
        return nullptr;
    }
    t.info(fmt::format("{} rules loaded, {} refused", rs.size(), rs.refused().size()));
    return std::make_unique<sigma_stage>(std::move(rs), o.alerts_only);
}

}  // namespace sds::detect
