#pragma once
// AWS CloudTrail records to ECS, following Elastic's aws.cloudtrail pipeline: user.*,
// source.address/ip, user_agent.original, cloud.*, event.action/provider/outcome and the
// categorisation of well-known API calls, aws.cloudtrail.* (request_parameters & co. as compact
// JSON strings plus their objects under aws.cloudtrail.flattened.*), tls.*, related.*.
//
// CloudTrail is the bulk of most AWS security telemetry, so it has the fast path: the record's
// members are read in one pass and the document is a json::layout_doc over the fixed list of
// paths below (no per-field hashing or key copies), instead of a doc_builder.
#include <array>
#include <string_view>

#include "sds/formats/json_format.hpp"
#include "sds/json/layout.hpp"

namespace sds::formats {

// Every path a CloudTrail document can have (parents before children), including those the
// driver adds to every document (ecs.version, event.dataset, log.*, event.original, ...).
inline constexpr std::array<std::string_view, 99> cloudtrail_paths{
    "",
    "@timestamp",
    "aws",
    "aws.cloudtrail",
    "aws.cloudtrail.event_version",
    "aws.cloudtrail.user_identity",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.session_context",
    "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
    "aws.cloudtrail.user_identity.session_context.creation_date",
    "aws.cloudtrail.user_identity.session_context.session_issuer",
    "aws.cloudtrail.user_identity.session_context.session_issuer.type",
    "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    "aws.cloudtrail.user_identity.invoked_by",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.error_message",
    "aws.cloudtrail.request_parameters",
    "aws.cloudtrail.response_elements",
    "aws.cloudtrail.additional_eventdata",
    "aws.cloudtrail.service_event_details",
    "aws.cloudtrail.flattened",
    "aws.cloudtrail.flattened.request_parameters",
    "aws.cloudtrail.flattened.response_elements",
    "aws.cloudtrail.flattened.additional_eventdata",
    "aws.cloudtrail.flattened.service_event_details",
    "aws.cloudtrail.request_id",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.api_version",
    "aws.cloudtrail.management_event",
    "aws.cloudtrail.read_only",
    "aws.cloudtrail.resources",
    "aws.cloudtrail.recipient_account_id",
    "aws.cloudtrail.shared_event_id",
    "aws.cloudtrail.vpc_endpoint_id",
    "aws.cloudtrail.console_login",
    "aws.cloudtrail.console_login.additional_eventdata",
    "aws.cloudtrail.console_login.additional_eventdata.mobile_version",
    "aws.cloudtrail.console_login.additional_eventdata.login_to",
    "aws.cloudtrail.console_login.additional_eventdata.mfa_used",
    "user",
    "user.name",
    "user.email",
    "user.id",
    "user.target",
    "user.target.name",
    "user.target.id",
    "user.changes",
    "user.changes.name",
    "related",
    "related.user",
    "related.entity",
    "related.ip",
    "cloud",
    "cloud.account",
    "cloud.account.id",
    "cloud.region",
    "cloud.provider",
    "error",
    "error.message",
    "actor",
    "actor.entity",
    "actor.entity.id",
    "event",
    "event.provider",
    "event.action",
    "event.id",
    "event.kind",
    "event.category",
    "event.type",
    "event.outcome",
    "event.dataset",
    "event.module",
    "event.original",
    "event.ingested",
    "source",
    "source.address",
    "source.ip",
    "user_agent",
    "user_agent.original",
    "group",
    "group.name",
    "group.id",
    "tls",
    "tls.version_protocol",
    "tls.version",
    "tls.cipher",
    "tls.client",
    "tls.client.server_name",
    "ecs",
    "ecs.version",
    "log",
    "log.file",
    "log.file.path",
    "log.offset",
};

// The node of a CloudTrail path (a compile-time constant).
consteval json::layout_id ct(std::string_view path) { return json::layout_index(cloudtrail_paths, path); }

parse_status parse_cloudtrail(object rec, json::layout_doc& doc, json_scratch& s);

}  // namespace sds::formats
