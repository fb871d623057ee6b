#include "sds/formats/findings.hpp"

#include "sds/core/ip.hpp"

namespace sds::formats {

namespace {

void copy_clean(json::doc_builder& doc, object o, std::string_view key, std::string_view path, std::string& scratch) {
    element e;
    if (val(o, key, e)) set_clean(doc, path, e, scratch);
}

bool timestamp_from(json::doc_builder& doc, object o, std::initializer_list<std::string_view> keys, std::string& scratch) {
    for (auto k : keys) {
        std::string_view t = str(o, k);
        if (!t.empty() && set_time(doc, "@timestamp", t, scratch)) return true;
    }
    return false;
}

}  // namespace

object finding_of(object rec) {
    object detail;
    if (!str(rec, "detail-type").empty() && obj(rec, "detail", detail)) return detail;
    return rec;
}

parse_status parse_guardduty(object rec, json::doc_builder& doc, json_scratch& s) {
    object f = finding_of(rec);
    if (!timestamp_from(doc, f, {"updatedAt", "createdAt"}, s.a) && !timestamp_from(doc, rec, {"time"}, s.a))
        return reject("guardduty: no updatedAt/createdAt");
    std::string_view id = str(f, "id");
    if (id.empty()) return reject("guardduty: no finding id");
    doc.set_string("event.kind", "alert");
    doc.push_string("event.category", "threat");
    doc.push_string("event.type", "indicator");
    doc.set_string("event.id", id);
    std::string_view created = str(f, "createdAt");
    if (!created.empty() && !set_time(doc, "event.created", created, s.a)) note_error(doc, "guardduty: invalid createdAt");
    set_nonempty(doc, "cloud.account.id", str(f, "accountId"));
    set_nonempty(doc, "cloud.region", str(f, "region"));
    doc.set_string("cloud.provider", "aws");
    std::string_view type = str(f, "type");
    set_nonempty(doc, "rule.name", type);
    set_nonempty(doc, "rule.ruleset", type.substr(0, type.find(':')));
    set_nonempty(doc, "message", str(f, "description"));
    set_nonempty(doc, "aws.guardduty.id", id);
    set_nonempty(doc, "aws.guardduty.arn", str(f, "arn"));
    set_nonempty(doc, "aws.guardduty.type", type);
    set_nonempty(doc, "aws.guardduty.title", str(f, "title"));
    set_nonempty(doc, "aws.guardduty.schema_version", str(f, "schemaVersion"));
    set_nonempty(doc, "aws.guardduty.partition", str(f, "partition"));
    element sev;
    if (val(f, "severity", sev)) {
        double v = 0;
        if (!sev.get_double().get(v)) {
            doc.set_double("aws.guardduty.severity.value", v);
            doc.set_string("aws.guardduty.severity.code", v >= 7 ? "High" : v >= 4 ? "Medium" : "Low");
            doc.set_int("event.severity", int64_t(v));
        }
    }
    copy_clean(doc, f, "resource", "aws.guardduty.resource", s.b);
    copy_clean(doc, f, "service", "aws.guardduty.service", s.b);
    // The remote party of the detected action.
    object service, action;
    if (obj(f, "service", service) && obj(service, "action", action)) {
        for (auto kind : {"networkConnectionAction", "awsApiCallAction", "portProbeAction", "dnsRequestAction"}) {
            object a, remote;
            if (!obj(action, kind, a)) continue;
            if (obj(a, "remoteIpDetails", remote)) {
                std::string_view ip4 = str(remote, "ipAddressV4");
                std::string_view dir = str(a, "connectionDirection");
                if (!ip4.empty()) set_ip(doc, dir == "OUTBOUND" ? "destination.ip" : "source.ip", ip4);
            }
            object domain;
            if (obj(a, "domainDetails", domain)) set_nonempty(doc, "dns.question.name", str(domain, "domain"));
            set_nonempty(doc, "event.action", str(a, "api"));
        }
    }
    return {};
}

parse_status parse_securityhub(object f, json::doc_builder& doc, json_scratch& s) {
    if (!timestamp_from(doc, f, {"UpdatedAt", "LastObservedAt", "CreatedAt"}, s.a))
        return reject("securityhub: no UpdatedAt/CreatedAt");
    std::string_view id = str(f, "Id");
    if (id.empty()) return reject("securityhub: no finding Id");
    doc.set_string("event.kind", "state");
    doc.push_string("event.category", "configuration");
    doc.set_string("event.id", id);
    std::string_view created = str(f, "CreatedAt");
    if (!created.empty() && !set_time(doc, "event.created", created, s.a)) note_error(doc, "securityhub: invalid CreatedAt");
    set_nonempty(doc, "cloud.account.id", str(f, "AwsAccountId"));
    set_nonempty(doc, "cloud.region", str(f, "Region"));
    doc.set_string("cloud.provider", "aws");
    std::string_view title = str(f, "Title");
    set_nonempty(doc, "message", title);
    set_nonempty(doc, "rule.id", str(f, "GeneratorId"));
    set_nonempty(doc, "rule.name", title);
    set_nonempty(doc, "rule.description", str(f, "Description"));
    const std::string_view p = "aws.securityhub_findings.";
    auto put = [&](std::string_view field, std::string_view v) {
        if (v.empty()) return;
        s.c.assign(p);
        s.c.append(field);
        doc.set_string(s.c, v);
    };
    put("id", id);
    put("schema_version", str(f, "SchemaVersion"));
    put("product.arn", str(f, "ProductArn"));
    put("product.name", str(f, "ProductName"));
    put("company.name", str(f, "CompanyName"));
    put("generator.id", str(f, "GeneratorId"));
    put("title", title);
    put("description", str(f, "Description"));
    put("record_state", str(f, "RecordState"));
    object o;
    if (obj(f, "Severity", o)) {
        std::string_view label = str(o, "Label");
        put("severity.label", label);
        element n;
        int64_t v = 0;
        if (val(o, "Normalized", n) && as_int(n, v)) doc.set_int("event.severity", v);
    }
    if (obj(f, "Workflow", o)) put("workflow.status", str(o, "Status"));
    if (obj(f, "Compliance", o)) {
        std::string_view status = str(o, "Status");
        put("compliance.status", status);
        if (status == "PASSED") doc.set_string("event.outcome", "success");
        if (status == "FAILED") doc.set_string("event.outcome", "failure");
    }
    copy_clean(doc, f, "Types", "aws.securityhub_findings.types", s.b);
    copy_clean(doc, f, "Resources", "aws.securityhub_findings.resources", s.b);
    copy_clean(doc, f, "ProductFields", "aws.securityhub_findings.product.fields", s.b);
    element resources;
    if (val(f, "Resources", resources) && resources.is_array()) {
        for (element r : simdjson::dom::array(resources)) {
            object ro;
            if (r.get_object().get(ro)) continue;
            std::string_view rid = str(ro, "Id");
            if (!rid.empty()) doc.push_string("related.entity", rid, true);
        }
    }
    return {};
}

parse_status parse_health(object rec, json::doc_builder& doc, json_scratch& s) {
    object e = finding_of(rec);
    object event;
    if (obj(e, "event", event)) e = event;  // DescribeEventDetails shape
    if (!timestamp_from(doc, e, {"startTime", "lastUpdatedTime"}, s.a) && !timestamp_from(doc, rec, {"time"}, s.a))
        return reject("health: no startTime");
    std::string_view code = str(e, "eventTypeCode");
    std::string_view arn = str(e, "eventArn");
    if (arn.empty()) arn = str(e, "arn");
    if (code.empty() && arn.empty()) return reject("health: no eventTypeCode or eventArn");
    const bool abuse = code.find("ABUSE") != std::string_view::npos || str(rec, "detail-type") == "AWS Health Abuse Event";
    doc.set_string("event.kind", abuse ? "alert" : "event");
    doc.push_string("event.category", abuse ? "threat" : "host");
    doc.push_string("event.type", "info");
    set_nonempty(doc, "event.action", code);
    set_nonempty(doc, "event.id", arn);
    set_nonempty(doc, "cloud.region", str(e, "eventRegion").empty() ? str(e, "region") : str(e, "eventRegion"));
    set_nonempty(doc, "cloud.account.id", str(rec, "account").empty() ? str(e, "accountId") : str(rec, "account"));
    doc.set_string("cloud.provider", "aws");
    set_nonempty(doc, "aws.health.event_arn", arn);
    set_nonempty(doc, "aws.health.service", str(e, "service"));
    set_nonempty(doc, "aws.health.event_type_code", code);
    set_nonempty(doc, "aws.health.event_type_category", str(e, "eventTypeCategory"));
    set_nonempty(doc, "aws.health.status_code", str(e, "statusCode"));
    std::string_view end = str(e, "endTime");
    if (!end.empty()) set_time(doc, "aws.health.end_time", end, s.a);
    std::string_view start = str(e, "startTime");
    if (!start.empty()) set_time(doc, "aws.health.start_time", start, s.a);
    element desc;
    if (val(e, "eventDescription", desc) && desc.is_array()) {
        for (element d : simdjson::dom::array(desc)) {
            object dobj;
            if (d.get_object().get(dobj)) continue;
            std::string_view text = str(dobj, "latestDescription");
            if (!text.empty()) {
                doc.set_string("message", text);
                doc.set_string("aws.health.description", text);
                break;
            }
        }
    }
    element ents;
    if (val(e, "affectedEntities", ents) && ents.is_array()) {
        copy_clean(doc, e, "affectedEntities", "aws.health.affected_entities", s.b);
        for (element x : simdjson::dom::array(ents)) {
            object xo;
            if (x.get_object().get(xo)) continue;
            std::string_view v = str(xo, "entityValue");
            if (v.empty()) continue;
            doc.push_string("related.entity", v, true);
            if (ip::is_ip(v)) doc.push_string("related.ip", v, true);
        }
    }
    return {};
}

}  // namespace sds::formats
