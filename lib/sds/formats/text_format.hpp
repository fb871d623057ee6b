#pragma once
// Contract between sds-normalize's driver and the parsers of text log formats (ALB/ELB/NLB,
// VPC Flow Logs, Squid, NGINX, Apache). A parser turns one raw line into ECS fields in a
// doc_builder; the driver adds what every document gets (event.id, ecs.version, log.*,
// event.original, event.ingested) and writes it out.
#include <string_view>

#include "sds/core/expected.hpp"
#include "sds/json/builder.hpp"

namespace sds::formats {

// What a parser returns: ok, or a rejection reason (the record is dead-lettered). A recognised
// line with one unusable field is NOT a rejection: the parser keeps the line, leaves the value
// where ECS allows it, and appends a note with note_error() (error.message), as Elastic's
// pipelines do.
using parse_status = status;  // error code exit_code::rejected + reason on failure

inline parse_status reject(std::string reason) { return make_error(exit_code::rejected, std::move(reason)); }

inline void note_error(json::doc_builder& doc, std::string_view msg) { doc.push_string("error.message", msg); }

}  // namespace sds::formats
