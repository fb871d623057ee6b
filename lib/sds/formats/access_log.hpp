#pragma once
// NGINX and Apache HTTP Server access logs, common and combined, as Elastic's nginx.access and
// apache.access pipelines map them:
//   [vhost[:port]] client[, client…] ident user [time] "request" status bytes
//     [response_time] ["referrer" "user agent"] [more quoted fields] [X-Forwarded-For="…"]
// plus Apache's SSL request log ([time] client protocol cipher "request" bytes). IPv6 clients,
// "-" requests and escaped binary requests are accepted; the request is split into method, URL
// and version only when it has that shape.
#include <string_view>

#include "sds/formats/text_format.hpp"

namespace sds::formats {

enum class access_log_flavour { nginx, apache };

// Either flavour: the two servers write the same formats.
bool looks_like_access_log(std::string_view line);
// For --format auto: apache for lines only Apache writes (SSL request log, X-Forwarded-For=
// suffix, ident/response-time forms Elastic's apache pipeline reads), else nginx.
access_log_flavour guess_access_log_flavour(std::string_view line);

parse_status parse_access_log(std::string_view line, json::doc_builder& doc, access_log_flavour flavour);
inline parse_status parse_nginx(std::string_view line, json::doc_builder& doc) {
    return parse_access_log(line, doc, access_log_flavour::nginx);
}
inline parse_status parse_apache(std::string_view line, json::doc_builder& doc) {
    return parse_access_log(line, doc, access_log_flavour::apache);
}

}  // namespace sds::formats
