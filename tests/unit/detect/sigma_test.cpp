#include <doctest/doctest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "sds/detect/alerts.hpp"
#include "sds/detect/match.hpp"
#include "sds/detect/sigma.hpp"

namespace fs = std::filesystem;
using sds::detect::pattern;
using sds::detect::ruleset;

namespace {

const std::string sigma_dir = std::string(SDS_TEST_DATA) + "/sigma/rules-cloud-aws-cloudtrail";
const std::string stratus_dir = std::string(SDS_TEST_DATA) + "/cloudtrail/stratus-red-team";

ruleset load_all() {
    ruleset rs;
    rs.set_placeholder("sg_allowed_ports", {"80", "443"});
    REQUIRE(rs.load_path(sigma_dir).ok());
    REQUIRE(sds::detect::load_builtin(rs).ok());
    return rs;
}

// Rule ids raised by the records of one Stratus file: "<ruleset>:<id>".
std::set<std::string> fired(const ruleset& rs, const std::string& file, bool builtin_only = false) {
    simdjson::dom::parser p;
    auto js = simdjson::padded_string::load(file).value();
    simdjson::dom::element doc = p.parse(js).value();
    std::set<std::string> out;
    simdjson::dom::array arr = doc.get_array().value();
    for (auto r : arr) {
        std::vector<uint32_t> hits;
        rs.match(r, hits);
        for (auto i : hits)
            if (!builtin_only || rs.ruleset_of(i) == "sds-builtin") out.insert(rs.ruleset_of(i) + ":" + rs.meta(i).id);
    }
    return out;
}

bool matches_one(std::string_view rule_yaml, std::string_view record_json) {
    ruleset rs;
    REQUIRE(rs.load_text(rule_yaml, "test.yml", "t").ok());
    REQUIRE(rs.refused().empty());
    simdjson::dom::parser p;
    simdjson::padded_string js(record_json);
    std::vector<uint32_t> hits;
    rs.match(p.parse(js).value(), hits);
    return !hits.empty();
}

std::string rule_with(std::string_view detection) {
    return "title: t\nid: x\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n" + std::string(detection);
}

}  // namespace

TEST_CASE("sigma pattern: case-insensitive, wildcards, escapes") {
    CHECK(pattern::compile("ConsoleLogin", false, false).matches("consolelogin"));
    CHECK_FALSE(pattern::compile("ConsoleLogin", false, false).matches("ConsoleLogins"));
    CHECK(pattern::compile("Get*", false, false).matches("GetObject"));
    CHECK(pattern::compile("*Object", false, false).matches("getobject"));
    CHECK(pattern::compile("a?c*e", false, false).matches("ABCxxE"));
    CHECK_FALSE(pattern::compile("a?c*e", false, false).matches("ac"));
    CHECK(pattern::compile("x\\*y", false, false).matches("x*y"));
    CHECK_FALSE(pattern::compile("x\\*y", false, false).matches("xzy"));
    CHECK(pattern::compile("fail", true, true).matches("AccessFailure"));  // contains
    CHECK(pattern::compile("*", true, true).matches(""));                  // contains '*': anything
}

TEST_CASE("sigma: all 57 SigmaHQ CloudTrail rules load, none refused") {
    ruleset rs;
    REQUIRE(rs.load_path(sigma_dir).ok());
    CHECK(rs.size() == 57);
    CHECK(rs.refused().size() == 0);
}

TEST_CASE("sigma: aggregations, correlations and unknown modifiers are refused with the reason") {
    ruleset rs;
    REQUIRE(rs.load_text(rule_with("  sel: {eventName: X}\n  condition: sel | count() > 5\n"), "agg.yml", "t").ok());
    REQUIRE(rs.load_text("title: c\ncorrelation: {type: event_count}\n", "corr.yml", "t").ok());
    REQUIRE(rs.load_text(rule_with("  sel: {eventName|base64offset: X}\n  condition: sel\n"), "mod.yml", "t").ok());
    REQUIRE(rs.load_text(rule_with("  sel: {eventName: X}\n  condition: other\n"), "ref.yml", "t").ok());
    CHECK(rs.size() == 0);
    REQUIRE(rs.refused().size() == 4);
    CHECK(rs.refused()[0].reason.find("aggregation") != std::string::npos);
    CHECK(rs.refused()[1].reason.find("correlation") != std::string::npos);
    CHECK(rs.refused()[2].reason.find("base64offset") != std::string::npos);
    CHECK(rs.refused()[3].file == "ref.yml");
}

TEST_CASE("sigma: not YAML at all is an error naming the file and line") {
    ruleset rs;
    auto s = rs.load_text("title: [unclosed\n  x: y\n", "bad.yml", "t");
    REQUIRE_FALSE(s.ok());
    CHECK(s.err().message.find("bad.yml:") != std::string::npos);
}

TEST_CASE("sigma: maps AND, lists OR, keyword selections, null, exists, all, cidr, re, fieldref") {
    const char* rec = R"({"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey",
        "sourceIPAddress":"203.0.113.9","userIdentity":{"userName":"alice","arn":"arn:aws:iam::1:user/alice"},
        "requestParameters":{"userName":"bob","tags":[{"key":"a"},{"key":"team"}]},"errorCode":null})";
    CHECK(matches_one(rule_with("  s: {eventName: createaccesskey, userIdentity.userName: alice}\n  condition: s\n"), rec));
    CHECK_FALSE(matches_one(rule_with("  s: {eventName: CreateAccessKey, userIdentity.userName: bob}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s:\n    - eventName: Nope\n    - userIdentity.userName: alice\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  k:\n    - 'user/ALICE'\n  condition: k\n"), rec));  // keyword: any value
    CHECK(matches_one(rule_with("  s: {errorCode: null}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s: {errorMessage: null}\n  condition: s\n"), rec));  // absent counts as null
    CHECK_FALSE(matches_one(rule_with("  s: {errorCode|exists: true}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s: {requestParameters.userName|exists: true}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s:\n    eventName|contains|all: [Create, Key]\n  condition: s\n"), rec));
    CHECK_FALSE(matches_one(rule_with("  s:\n    eventName|contains|all: [Create, Role]\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s: {sourceIPAddress|cidr: 203.0.113.0/24}\n  condition: s\n"), rec));
    CHECK_FALSE(matches_one(rule_with("  s: {sourceIPAddress|cidr: 10.0.0.0/8}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s: {userIdentity.arn|re: '.+:user/a.+'}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s: {requestParameters.tags.key: team}\n  condition: s\n"), rec));  // arrays walked
    CHECK_FALSE(matches_one(rule_with("  s: {userIdentity.userName|fieldref: requestParameters.userName}\n  condition: s\n"), rec));
    CHECK(matches_one(rule_with("  s: {eventName: CreateAccessKey}\n  f: {userIdentity.userName|fieldref: requestParameters.userName}\n"
                                "  condition: s and not f\n"), rec));
    CHECK(matches_one(rule_with("  sel_a: {eventName: X}\n  sel_b: {eventName: CreateAccessKey}\n  condition: 1 of sel_*\n"), rec));
    CHECK_FALSE(matches_one(rule_with("  sel_a: {eventName: X}\n  sel_b: {eventName: CreateAccessKey}\n  condition: all of them\n"), rec));
    CHECK(matches_one(rule_with("  a: {eventName: X}\n  b: {eventName: CreateAccessKey}\n  c: {userIdentity.userName: alice}\n"
                                "  condition: (a or b) and c\n"), rec));
}

TEST_CASE("sigma: CloudTrail names also match sds-normalize's ECS records") {
    const char* ecs = R"({"ecs":{"version":"8.11.0"},"event":{"dataset":"aws.cloudtrail","action":"ConsoleLogin","provider":"signin.amazonaws.com"},
        "aws":{"cloudtrail":{"user_identity":{"type":"Root"},"flattened":{"additional_eventdata":{"MFAUsed":"No"},
        "response_elements":{"ConsoleLogin":"Success"}},"response_elements":"{\"ConsoleLogin\":\"Success\"}"}},
        "source":{"address":"203.0.113.9"}})";
    CHECK(matches_one(rule_with("  s: {eventName: ConsoleLogin, additionalEventData.MFAUsed: 'NO', responseElements.ConsoleLogin: Success}\n"
                                "  condition: s\n"), ecs));
    CHECK(matches_one(rule_with("  s: {userIdentity.type: Root, sourceIPAddress|cidr: 203.0.113.0/24}\n  condition: s\n"), ecs));
    CHECK(matches_one(rule_with("  s: {responseElements|contains: 'Success'}\n  condition: s\n"), ecs));
    // A rule for another log source never matches.
    CHECK_FALSE(matches_one("title: t\nid: x\nlogsource: {product: windows}\ndetection:\n  s: {eventName: ConsoleLogin}\n  condition: s\n", ecs));
}

TEST_CASE("sigma: each Stratus Red Team technique is flagged by the rules written for it") {
    ruleset rs = load_all();
    const std::map<std::string, std::set<std::string>> expected = {
        {"aws.defense-evasion.cloudtrail-stop.json",
         {"sds-builtin:5b0c9a0e-1f7e-4e53-9a53-1d1c2b8f0a04", "sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74"}},
        {"aws.defense-evasion.cloudtrail-delete.json",
         {"sds-builtin:5b0c9a0e-1f7e-4e53-9a53-1d1c2b8f0a04", "sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74"}},
        {"aws.defense-evasion.cloudtrail-event-selectors.json", {"sds-builtin:5b0c9a0e-1f7e-4e53-9a53-1d1c2b8f0a04"}},
        {"aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
         {"sds-builtin:5b0c9a0e-1f7e-4e53-9a53-1d1c2b8f0a01", "sigma:6fb77778-040f-4015-9440-572aa9b6b580"}},
        {"aws.initial-access.console-login-without-mfa.json",
         {"sds-builtin:5b0c9a0e-1f7e-4e53-9a53-1d1c2b8f0a03", "sigma:77caf516-34e5-4df9-b4db-20744fea0a60"}},
        {"aws.persistence.iam-backdoor-user.json",
         {"sds-builtin:5b0c9a0e-1f7e-4e53-9a53-1d1c2b8f0a06", "sigma:0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2"}},
        {"aws.defense-evasion.vpc-remove-flow-logs.json", {"sigma:e386b9b5-af12-450e-afff-761730fb8a98"}},
        {"aws.persistence.lambda-layer-extension.json", {"sigma:97fbabf8-8e1b-47a2-b7d5-a418d2b95e3d"}},
        {"aws.privilege-escalation.iam-update-user-login-profile.json", {"sigma:055fb148-60f8-462d-ad16-26926ce050f1"}},
        {"aws.exfiltration.ec2-share-ebs-snapshot.json", {"sigma:abae8fec-57bd-4f87-aff6-6e3db989843d"}},
    };
    for (const auto& [file, ids] : expected) {
        CAPTURE(file);
        auto got = fired(rs, stratus_dir + "/" + file);
        for (const auto& id : ids) CHECK_MESSAGE(got.count(id) == 1, "missing " << id);
    }
}

TEST_CASE("sigma: the built-in pack is silent on every record it was not written for") {
    ruleset rs = load_all();
    const std::set<std::string> technique_files = {
        "aws.defense-evasion.cloudtrail-stop.json", "aws.defense-evasion.cloudtrail-delete.json",
        "aws.defense-evasion.cloudtrail-event-selectors.json", "aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
        "aws.initial-access.console-login-without-mfa.json", "aws.persistence.iam-backdoor-user.json",
        "aws.persistence.iam-create-admin-user.json"};
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(stratus_dir)) {
        std::string name = e.path().filename().string();
        if (e.path().extension() != ".json" || technique_files.count(name)) continue;
        CAPTURE(name);
        CHECK(fired(rs, e.path().string(), true).empty());
        ++files;
    }
    CHECK(files == 28);
}

TEST_CASE("sigma: the security-group allow-list is a placeholder the user sets") {
    ruleset rs;
    rs.set_placeholder("sg_allowed_ports", {"22"});
    REQUIRE(sds::detect::load_builtin(rs).ok());
    CHECK(fired(rs, stratus_dir + "/aws.exfiltration.ec2-security-group-open-port-22-ingress.json", true).empty());
}

TEST_CASE("alerts: ATT&CK tags and remediation rendering") {
    CHECK(sds::detect::technique_of("attack.t1078.004") == "T1078.004");
    CHECK(sds::detect::technique_of("attack.persistence") == "");
    CHECK(sds::detect::tactic_of("attack.defense_evasion") == "Defense Evasion");
    CHECK(sds::detect::tactic_of("attack.command_and_control") == "Command and Control");
    CHECK(sds::detect::tactic_of("attack.t1078") == "");
    ruleset rs = load_all();
    simdjson::dom::parser p;
    auto js = simdjson::padded_string::load(stratus_dir + "/aws.exfiltration.ec2-security-group-open-port-22-ingress.json").value();
    simdjson::dom::element rec = p.parse(js).value().at(0).value();
    std::vector<uint32_t> hits;
    rs.match(rec, hits);
    sds::json::patch patch;
    sds::detect::add_alert_fields(rs, hits, rec, patch);
    std::string out;
    patch.apply(simdjson::minify(rec), out);
    simdjson::dom::parser p2;
    auto doc = p2.parse(out).value();
    CHECK(std::string_view(doc.at_pointer("/event/kind").value()) == "alert");
    CHECK(int64_t(doc.at_pointer("/event/risk_score").value()) == 73);
    CHECK(doc.at_pointer("/sds/alerts").value().get_array().value().size() == 2);
    CHECK(std::string_view(doc.at_pointer("/sds/response/command").value()) ==
          "aws ec2 revoke-security-group-ingress --region us-northeast-1r --group-id sg-003dc7f1f1c686164 "
          "--security-group-rule-ids sgr-09b3e3d2ca1edf2a2");
}

TEST_CASE("sigma: |re with a required literal (checked before the regex) matches as the regex does") {
    auto rec = [](const char* arn) { return std::string(R"({"eventVersion":"1.08","eventSource":"x","userIdentity":{"arn":")") + arn + "\"}}"; };
    const std::string imds = rule_with("  s:\n    userIdentity.arn|re: '.+:assumed-role/aws:.+'\n  condition: s\n");
    CHECK(matches_one(imds, rec("arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1")));
    CHECK_FALSE(matches_one(imds, rec("arn:aws:sts::1:assumed-role/Admin/alice")));
    CHECK_FALSE(matches_one(imds, rec(":assumed-role/aws:")));  // the dots need a character each side
    const std::string quantified = rule_with("  s:\n    userIdentity.arn|re: 'ab+c?d'\n  condition: s\n");
    CHECK(matches_one(quantified, rec("xabbbdx")));
    CHECK(matches_one(quantified, rec("abcd")));
    CHECK_FALSE(matches_one(quantified, rec("acd")));
    const std::string alternation = rule_with("  s:\n    userIdentity.arn|re: 'foo|bar'\n  condition: s\n");
    CHECK(matches_one(alternation, rec("xbar")));
    const std::string optional = rule_with("  s:\n    userIdentity.arn|re: 'x*yz'\n  condition: s\n");
    CHECK(matches_one(optional, rec("yz")));
}

TEST_CASE("sigma: rules without eventName are dispatched on another field's exact values, and still match") {
    ruleset rs;
    REQUIRE(rs.load_text(rule_with("  s:\n    userIdentity.type: [AssumedRole, Root]\n    eventSource: sts.amazonaws.com\n"
                                   "  condition: s\n"),
                         "a.yml", "t")
                .ok());
    REQUIRE(rs.load_text(rule_with("  s:\n    userAgent|contains: TruffleHog\n  condition: s\n"), "b.yml", "t").ok());
    CHECK(rs.undispatched() == 1);  // the |contains rule has no exact value to dispatch on
    simdjson::dom::parser p;
    auto hits_of = [&](const char* json) {
        std::vector<uint32_t> hits;
        rs.match(p.parse(simdjson::padded_string(std::string_view(json))).value(), hits);
        return hits;
    };
    CHECK(hits_of(R"({"eventVersion":"1","eventSource":"sts.amazonaws.com","userIdentity":{"type":"assumedrole"}})") ==
          std::vector<uint32_t>{0});
    CHECK(hits_of(R"({"eventVersion":"1","eventSource":"sts.amazonaws.com","userIdentity":{"type":"IAMUser"},"userAgent":"x TruffleHog"})") ==
          std::vector<uint32_t>{1});
    // Two values of the dispatch field lead to the same rule: it is evaluated and reported once.
    CHECK(hits_of(R"({"eventVersion":"1","eventSource":"sts.amazonaws.com","userIdentity":[{"type":"Root"},{"type":"AssumedRole"}]})") ==
          std::vector<uint32_t>{0});
    // ECS records: the field is found under its ECS name.
    CHECK(hits_of(R"({"ecs":{"version":"8"},"event":{"dataset":"aws.cloudtrail","provider":"sts.amazonaws.com"},)"
                  R"("aws":{"cloudtrail":{"user_identity":{"type":"Root"}}}})") == std::vector<uint32_t>{0});
}

TEST_CASE("sigma: a %placeholder% with the expand modifier and no value is refused, naming it; with values it matches") {
    const std::string rule = R"(title: Admin users
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        userIdentity.userName|expand: '%admins%'
    condition: selection
level: high
)";
    ruleset without;
    REQUIRE(without.load_text(rule, "admins.yml", "sigma").ok());
    CHECK(without.size() == 0);
    REQUIRE(without.refused().size() == 1);
    CHECK(without.refused()[0].file == "admins.yml");
    CHECK(without.refused()[0].reason.find("placeholder %admins% has no value") != std::string::npos);

    ruleset with;
    with.set_placeholder("admins", {"alice", "bob"});
    REQUIRE(with.load_text(rule, "admins.yml", "sigma").ok());
    REQUIRE(with.size() == 1);
    simdjson::dom::parser p;
    for (const auto& [name, hit] : std::map<std::string, bool>{{"bob", true}, {"carol", false}}) {
        std::string rec = R"({"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"ListUsers","userIdentity":{"type":"IAMUser","userName":")" + name + R"("}})";
        std::vector<uint32_t> hits;
        with.match(p.parse(rec).value(), hits);
        CHECK(hits.empty() == !hit);
    }
}

TEST_CASE("sigma: OTRF's EC2-proxy S3 exfiltration: the stolen role session is flagged, the admin's console calls and the built-in pack are not") {
    // OTRF SDAWS-200914011940 (T1078.004, T1530): an instance profile's keys taken through a
    // misconfigured reverse proxy are used from an outside laptop (aws-cli on Darwin) to list
    // and read the bucket. SigmaHQ's "AWS STS AssumeRole Misuse" is the rule of the 57 that
    // flags use of a Role's session; the console user's EC2 browsing around it stays silent.
    // (SigmaHQ's IMDS-credentials rule matches instance *identity* roles, "assumed-role/aws:…",
    // not instance-profile roles, and rightly stays silent here.)
    ruleset rs = load_all();
    const std::string file = std::string(SDS_TEST_DATA) + "/cloudtrail/otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json";
    auto text = simdjson::padded_string::load(file).value();
    simdjson::dom::parser p;
    std::map<std::string, size_t> by_rule;  // "<ruleset>:<id>" -> records
    size_t records = 0, attacker = 0;
    for (auto doc : p.parse_many(text)) {
        simdjson::dom::element r = doc.value();
        ++records;
        std::string_view type, ua, id;
        if (r.at_pointer("/userIdentity/type").get(type)) type = {};
        if (r["eventID"].get(id)) id = {};
        bool stolen = type == "AssumedRole" && !r["userAgent"].get(ua) && ua.find("aws-cli") != std::string_view::npos;
        attacker += stolen;
        std::vector<uint32_t> hits;
        rs.match(r, hits);
        CHECK_MESSAGE(hits.empty() == !stolen, "eventID " << id);
        for (auto i : hits) ++by_rule[rs.ruleset_of(i) + ":" + rs.meta(i).id];
    }
    CHECK(records == 103);
    CHECK(attacker == 11);  // ListBuckets x2, ListObjects x7, GetObject x2
    CHECK(by_rule == std::map<std::string, size_t>{{"sigma:905d389b-b853-46d0-9d3d-dea0d3a3cd49", 11}});
}
