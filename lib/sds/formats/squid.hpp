#pragma once
// Squid access.log, as Elastic's squid pipeline maps it: the native format
//   time.ms elapsed client code/status bytes method URL user hierarchy/peer type
// and the extended format Elastic documents (client port, reply/request sizes, header sizes,
// HTTP version, destination port, error code/detail, "referer" "user agent" "host" "xff"
// ["sni"], server time, note).
#include <string_view>

#include "sds/formats/text_format.hpp"

namespace sds::formats {

bool looks_like_squid(std::string_view line);
parse_status parse_squid(std::string_view line, json::doc_builder& doc);

}  // namespace sds::formats
