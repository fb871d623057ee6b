#pragma once
// AWS CloudTrail records to ECS, following Elastic's aws.cloudtrail pipeline: user.*,
// source.address/ip, user_agent.original, cloud.*, event.action/provider/outcome and the
// categorisation of well-known API calls, aws.cloudtrail.* (request_parameters & co. as compact
// JSON strings plus their objects under aws.cloudtrail.flattened.*), tls.*, related.*.
#include "sds/formats/json_format.hpp"

namespace sds::formats {

parse_status parse_cloudtrail(object rec, json::doc_builder& doc, json_scratch& s);

}  // namespace sds::formats
