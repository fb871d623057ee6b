#pragma once
// Elastic Load Balancing access logs, as Elastic's aws.elb_logs pipeline maps them:
//  - Application Load Balancer access logs (type http|https|h2|grpcs|ws|wss, every field of
//    today's format; unknown trailing fields are tolerated),
//  - Application Load Balancer connection logs (time client_ip client_port listener_port …),
//  - Network Load Balancer TLS access logs (type tls),
//  - Classic ELB access logs (HTTP and TCP listeners).
// One detector and one parser cover them all; the format names alb, elb and nlb are aliases.
#include <string_view>

#include "sds/formats/text_format.hpp"

namespace sds::formats {

// Cheap shape check: an ELB line of any of the four kinds above.
bool looks_like_elb(std::string_view line);
// Fills aws.elb.*, source/client, http, url, tls, event.*, @timestamp; rejects lines of another
// shape or without a usable time.
parse_status parse_elb(std::string_view line, json::doc_builder& doc);

inline bool looks_like_alb(std::string_view line) { return looks_like_elb(line); }
inline parse_status parse_alb(std::string_view line, json::doc_builder& doc) { return parse_elb(line, doc); }
inline bool looks_like_nlb(std::string_view line) { return looks_like_elb(line); }
inline parse_status parse_nlb(std::string_view line, json::doc_builder& doc) { return parse_elb(line, doc); }

}  // namespace sds::formats
