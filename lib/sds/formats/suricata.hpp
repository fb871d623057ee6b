#pragma once
// Suricata EVE JSON to ECS, following Elastic's suricata.eve pipeline: the record under
// suricata.eve.* (less what moves to ECS), source/destination, network.* (community id computed
// when absent), observer.*, event.kind/category/type per event type, and the ECS fields of
// alert (rule.*, event.severity), flow (bytes, packets, start/end), http (http.*, url.*),
// dns (dns.*), tls (tls.*), fileinfo (file.*).
#include "sds/formats/json_format.hpp"

namespace sds::formats {

parse_status parse_suricata(object rec, json::doc_builder& doc, json_scratch& s);

}  // namespace sds::formats
