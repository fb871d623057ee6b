#include "sds/normalize/registry.hpp"

#include <array>

namespace sds::normalize {

namespace {

constexpr std::array<format_info, 11> table{{
    {format_id::cloudtrail, "cloudtrail", "aws.cloudtrail", "aws", true, true,
     "AWS CloudTrail records (raw, or message-wrapped JSON)"},
    {format_id::waf, "waf", "aws.waf", "aws", true, true, "AWS WAF (v2) full logs"},
    {format_id::guardduty, "guardduty", "aws.guardduty", "aws", true, true,
     "Amazon GuardDuty findings (API and EventBridge shapes)"},
    {format_id::securityhub, "securityhub", "aws.securityhub_findings", "aws", true, true,
     "AWS Security Hub ASFF findings (also EventBridge 'Security Hub Findings - Imported')"},
    {format_id::health, "health", "aws.health", "aws", true, true,
     "AWS Health events, including abuse notifications (API and EventBridge shapes)"},
    {format_id::suricata, "suricata", "suricata.eve", "suricata", true, true, "Suricata EVE JSON"},
    {format_id::alb, "alb", "aws.elb_logs", "aws", false, true, "Elastic Load Balancing access logs (ALB, ELB, NLB)"},
    {format_id::vpcflow, "vpcflow", "aws.vpcflow", "aws", false, true,
     "VPC Flow Logs v2-v5, custom field orders, transit gateway flow logs"},
    {format_id::squid, "squid", "squid.log", "squid", false, true, "Squid native access.log"},
    {format_id::nginx, "nginx", "nginx.access", "nginx", false, true, "NGINX access logs (common, combined)"},
    {format_id::apache, "apache", "apache.access", "apache", false, true, "Apache access logs (common, combined)"},
}};

bool has(formats::object o, std::string_view key) {
    simdjson::dom::element e;
    return !o.at_key(key).get(e);
}

// GuardDuty and Security Hub findings inside an EventBridge envelope, or bare.
std::optional<format_id> detect_finding(formats::object rec) {
    if (has(rec, "schemaVersion") && has(rec, "type") && has(rec, "service") && has(rec, "severity")) {
        formats::object svc;
        if (formats::obj(rec, "service", svc) && formats::str(svc, "serviceName") == "guardduty")
            return format_id::guardduty;
        if (has(rec, "accountId") && has(rec, "arn")) return format_id::guardduty;
    }
    if (has(rec, "SchemaVersion") && has(rec, "ProductArn") && has(rec, "AwsAccountId")) return format_id::securityhub;
    return std::nullopt;
}

}  // namespace

std::span<const format_info> formats() { return table; }

const format_info& info(format_id id) { return table[static_cast<size_t>(id)]; }

std::optional<format_id> by_name(std::string_view name) {
    if (name == "elb" || name == "nlb") return format_id::alb;
    for (const auto& f : table)
        if (f.name == name) return f.id;
    return std::nullopt;
}

std::optional<format_id> detect_json(formats::object rec) {
    // CloudTrail: eventVersion + eventSource (digest files are filtered upstream).
    if (has(rec, "eventVersion") && has(rec, "eventSource")) return format_id::cloudtrail;
    if (has(rec, "webaclId") && has(rec, "httpRequest")) return format_id::waf;
    if (has(rec, "event_type") && (has(rec, "src_ip") || has(rec, "timestamp"))) return format_id::suricata;
    // EventBridge envelope: {"detail-type":…, "source":"aws.x", "detail":{…}}.
    std::string_view detail_type = formats::str(rec, "detail-type");
    if (!detail_type.empty()) {
        std::string_view source = formats::str(rec, "source");
        if (source == "aws.guardduty" || detail_type == "GuardDuty Finding") return format_id::guardduty;
        if (source == "aws.securityhub" || detail_type.starts_with("Security Hub Findings")) return format_id::securityhub;
        if (source == "aws.health" || detail_type == "AWS Health Event" || detail_type == "AWS Health Abuse Event")
            return format_id::health;
        return std::nullopt;
    }
    if (auto f = detect_finding(rec)) return f;
    // Security Hub GetFindings output / import file shape: {"Findings":[…]} is unwrapped by
    // sds-fetch as an array; single ASFF objects are matched above.
    // AWS Health DescribeEvents / event details.
    if ((has(rec, "eventTypeCode") && has(rec, "service")) || (has(rec, "eventArn") && has(rec, "eventTypeCode")))
        return format_id::health;
    return std::nullopt;
}

}  // namespace sds::normalize
