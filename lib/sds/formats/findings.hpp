#pragma once
// Findings and notices: Amazon GuardDuty findings, AWS Security Hub ASFF findings and AWS Health
// events (incl. abuse notifications), bare (API shape) or inside their EventBridge envelope
// ({"detail-type":…,"source":"aws.x","detail":{…}}). Mapped to ECS the way Elastic's
// aws.guardduty / aws.securityhub_findings integrations name things: event.kind alert/state,
// event.id from the finding id, cloud.*, rule.*, message, and the finding under aws.<source>.*.
#include "sds/formats/json_format.hpp"

namespace sds::formats {

// The finding inside an EventBridge envelope (detail), or the record itself.
object finding_of(object rec);

parse_status parse_guardduty(object rec, json::doc_builder& doc, json_scratch& s);
// One ASFF finding (callers unwrap detail.findings[] themselves: one document per finding).
parse_status parse_securityhub(object finding, json::doc_builder& doc, json_scratch& s);
parse_status parse_health(object rec, json::doc_builder& doc, json_scratch& s);

}  // namespace sds::formats
