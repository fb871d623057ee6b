#pragma once
// The ECS document sds-scan writes for one endpoint (destination.ip/port/domain,
// network.transport, event.kind: state, service.name, and sds.scan.*).
#include <string_view>
#include <vector>

#include "sds/core/time.hpp"
#include "sds/json/builder.hpp"
#include "sds/scan/connect.hpp"

namespace sds::scan {

// Fills `b` (cleared first) with the port's state record. `domain` may be empty.
void build_port_record(json::doc_builder& b, const probe_result& r, std::string_view domain, time::millis at);

}  // namespace sds::scan

namespace sds::scan {
struct tls_report;
struct finding;
// Adds tls.*, tls.server.x509.*, sds.scan.tls.* and sds.scan.findings[] for one endpoint.
void add_tls_fields(json::doc_builder& b, const tls_report& r, const std::vector<finding>& findings, time::millis now);
}  // namespace sds::scan
