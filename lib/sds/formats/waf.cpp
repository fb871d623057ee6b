#include "sds/formats/waf.hpp"

#include "sds/core/time.hpp"

namespace sds::formats {

namespace {
void set_list(json::doc_builder& doc, object rec, std::string_view key, std::string_view path, std::string& scratch) {
    element e;
    if (val(rec, key, e)) set_clean(doc, path, e, scratch);
}
}  // namespace

parse_status parse_waf(object rec, json::doc_builder& doc, json_scratch& s) {
    element ts;
    if (!val(rec, "timestamp", ts)) return reject("waf: no timestamp");
    int64_t ms = 0;
    if (!as_int(ts, ms)) return reject("waf: invalid timestamp");
    s.a.clear();
    time::append_rfc3339(s.a, ms);
    doc.set_string("@timestamp", s.a);

    std::string_view arn = str(rec, "webaclId");
    set_nonempty(doc, "aws.waf.arn", arn);
    doc.set_string("cloud.provider", "aws");
    // arn:partition:service:region:account:resource
    if (arn.starts_with("arn:")) {
        std::string_view parts[6];
        std::string_view rest = arn;
        size_t n = 0;
        for (; n < 5; ++n) {
            size_t c = rest.find(':');
            if (c == std::string_view::npos) break;
            parts[n] = rest.substr(0, c);
            rest.remove_prefix(c + 1);
        }
        if (n == 5) {
            set_nonempty(doc, "cloud.service.name", parts[2]);
            set_nonempty(doc, "cloud.region", parts[3]);
            set_nonempty(doc, "cloud.account.id", parts[4]);
            set_nonempty(doc, "aws.waf.id", rest);
        }
    }
    std::string_view action = str(rec, "action");
    set_nonempty(doc, "event.action", action);
    set_nonempty(doc, "rule.id", str(rec, "terminatingRuleId"));
    set_nonempty(doc, "rule.ruleset", str(rec, "terminatingRuleType"));
    std::string_view source_name = str(rec, "httpSourceName");
    std::string_view source_id = str(rec, "httpSourceId");
    if (source_name != "-") set_nonempty(doc, "aws.waf.source.name", source_name);
    if (source_id != "-") set_nonempty(doc, "aws.waf.source.id", source_id);
    set_list(doc, rec, "terminatingRuleMatchDetails", "aws.waf.terminating_rule_match_details", s.b);
    set_list(doc, rec, "ruleGroupList", "aws.waf.rule_group_list", s.b);
    set_list(doc, rec, "rateBasedRuleList", "aws.waf.rate_based_rule_list", s.b);
    set_list(doc, rec, "nonTerminatingMatchingRules", "aws.waf.non_terminating_matching_rules", s.b);
    set_list(doc, rec, "labels", "aws.waf.labels", s.b);

    object req;
    if (obj(rec, "httpRequest", req)) {
        std::string_view client = str(req, "clientIp");
        if (!client.empty()) {
            if (!set_ip(doc, "source.ip", client)) doc.set_string("source.address", client);
        }
        element headers;
        if (val(req, "headers", headers) && headers.is_array()) {
            for (element h : simdjson::dom::array(headers)) {
                object ho;
                if (h.get_object().get(ho)) continue;
                std::string_view name = str(ho, "name");
                std::string_view value = str(ho, "value");
                if (name.empty() || name.find('.') != std::string_view::npos) continue;
                s.a.assign("aws.waf.request.headers.");
                s.a.append(name);
                doc.set_string(s.a, value);
                if (name.size() == 10 && (name == "User-Agent" || name == "user-agent"))
                    set_nonempty(doc, "user_agent.original", value);
            }
        }
        set_nonempty(doc, "url.path", str(req, "uri"));
        set_nonempty(doc, "url.query", str(req, "args"));
        std::string_view version = str(req, "httpVersion");
        if (version.starts_with("HTTP/")) {
            doc.set_string("http.version", version.substr(5));
            doc.set_string("network.protocol", "http");
        }
        set_nonempty(doc, "http.request.method", str(req, "httpMethod"));
        std::string_view rid = str(req, "requestId");
        set_nonempty(doc, "http.request.id", rid);
        set_nonempty(doc, "event.id", rid);
        set_nonempty(doc, "source.geo.country_iso_code", str(req, "country"));
    }
    doc.set_string("network.transport", "tcp");
    doc.set_string("event.kind", "event");
    doc.push_string("event.category", "web");
    doc.push_string("event.type", "access");
    if (action == "BLOCK")
        doc.push_string("event.type", "denied");
    else if (action == "ALLOW")
        doc.push_string("event.type", "allowed");
    return {};
}

}  // namespace sds::formats
