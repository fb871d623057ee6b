#pragma once
// AWS WAF (v2) full logs to ECS, following Elastic's aws.waf pipeline: aws.waf.* (arn, id,
// source, request headers, rule lists), cloud.* from the web ACL ARN, http.request.*, url.*,
// source.ip, rule.id/ruleset, event.action and event.type (allowed/denied).
#include "sds/formats/json_format.hpp"

namespace sds::formats {

parse_status parse_waf(object rec, json::doc_builder& doc, json_scratch& s);

}  // namespace sds::formats
