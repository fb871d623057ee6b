// CloudTrail field names and where sds-normalize puts them in ECS (the names pySigma's
// ecs_cloudtrail pipeline uses; JSON-valued objects under aws.cloudtrail.flattened.*).
#include <fmt/format.h>

#include <array>

#include "sds/detect/sigma.hpp"

namespace sds::detect {

namespace {

struct mapping {
    std::string_view raw;
    std::string_view ecs;
};
constexpr std::array<mapping, 30> exact_map{{
    {"apiVersion", "aws.cloudtrail.api_version"},
    {"awsRegion", "cloud.region"},
    {"errorCode", "aws.cloudtrail.error_code"},
    {"errorMessage", "aws.cloudtrail.error_message"},
    {"eventCategory", "aws.cloudtrail.event_category"},
    {"eventID", "event.id"},
    {"eventName", "event.action"},
    {"eventSource", "event.provider"},
    {"eventType", "aws.cloudtrail.event_type"},
    {"eventVersion", "aws.cloudtrail.event_version"},
    {"managementEvent", "aws.cloudtrail.management_event"},
    {"readOnly", "aws.cloudtrail.read_only"},
    {"recipientAccountId", "aws.cloudtrail.recipient_account_id"},
    {"requestID", "aws.cloudtrail.request_id"},
    {"sharedEventID", "aws.cloudtrail.shared_event_id"},
    {"sourceIPAddress", "source.address"},
    {"userAgent", "user_agent.original"},
    {"userIdentity.accessKeyId", "aws.cloudtrail.user_identity.access_key_id"},
    {"userIdentity.accountId", "cloud.account.id"},
    {"userIdentity.arn", "aws.cloudtrail.user_identity.arn"},
    {"userIdentity.invokedBy", "aws.cloudtrail.user_identity.invoked_by"},
    {"userIdentity.principalId", "user.id"},
    {"userIdentity.sessionContext.attributes.creationDate", "aws.cloudtrail.user_identity.session_context.creation_date"},
    {"userIdentity.sessionContext.attributes.mfaAuthenticated",
     "aws.cloudtrail.user_identity.session_context.mfa_authenticated"},
    {"userIdentity.sessionContext.sessionIssuer.userName", "role.name"},
    {"userIdentity.sessionContext.sessionIssuer.arn", "aws.cloudtrail.user_identity.session_context.session_issuer.arn"},
    {"userIdentity.sessionContext.sessionIssuer.type", "aws.cloudtrail.user_identity.session_context.session_issuer.type"},
    {"userIdentity.type", "aws.cloudtrail.user_identity.type"},
    {"userIdentity.userName", "user.name"},
    {"vpcEndpointId", "aws.cloudtrail.vpc_endpoint_id"},
}};

// JSON-valued members: the object itself is kept as a JSON string, its content under flattened.
struct prefix_map {
    std::string_view raw;
    std::string_view whole;      // the JSON string
    std::string_view flattened;  // the object
};
constexpr std::array<prefix_map, 4> prefixes{{
    {"requestParameters", "aws.cloudtrail.request_parameters", "aws.cloudtrail.flattened.request_parameters"},
    {"responseElements", "aws.cloudtrail.response_elements", "aws.cloudtrail.flattened.response_elements"},
    {"additionalEventData", "aws.cloudtrail.additional_eventdata", "aws.cloudtrail.flattened.additional_eventdata"},
    {"serviceEventDetails", "aws.cloudtrail.service_event_details", "aws.cloudtrail.flattened.service_event_details"},
}};

void walk(simdjson::dom::element e, std::string_view path, std::vector<simdjson::dom::element>& out) {
    simdjson::dom::array arr;
    if (!e.get_array().get(arr)) {
        for (simdjson::dom::element x : arr) walk(x, path, out);
        return;
    }
    if (path.empty()) {
        out.push_back(e);
        return;
    }
    simdjson::dom::object obj;
    if (e.get_object().get(obj)) return;
    simdjson::dom::element v;
    if (!obj.at_key(path).get(v)) {
        walk(v, {}, out);
        return;
    }
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
        if (!obj.at_key(path.substr(0, dot)).get(v)) walk(v, path.substr(dot + 1), out);
    }
}

bool is_ecs(simdjson::dom::element record) {
    simdjson::dom::element v;
    return !record.at_pointer("/ecs/version").get(v) || !record.at_pointer("/event/dataset").get(v);
}

}  // namespace

void field_values(simdjson::dom::element record, std::string_view field, std::vector<simdjson::dom::element>& out) {
    int ecs = -1;
    field_values(record, field, out, ecs);
}

void field_values(simdjson::dom::element record, std::string_view field, std::vector<simdjson::dom::element>& out,
                  int& ecs) {
    size_t before = out.size();
    walk(record, field, out);
    if (out.size() != before) return;
    if (ecs < 0) ecs = is_ecs(record) ? 1 : 0;
    if (!ecs) return;
    for (const auto& m : exact_map) {
        if (m.raw == field) {
            walk(record, m.ecs, out);
            return;
        }
    }
    for (const auto& p : prefixes) {
        if (field == p.raw) {
            walk(record, p.whole, out);
            return;
        }
        if (field.size() > p.raw.size() && field.substr(0, p.raw.size()) == p.raw && field[p.raw.size()] == '.') {
            std::string path = fmt::format("{}{}", p.flattened, field.substr(p.raw.size()));
            walk(record, path, out);
            return;
        }
    }
}

}  // namespace sds::detect
