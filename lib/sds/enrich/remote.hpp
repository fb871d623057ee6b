#pragma once
// Intelligence over HTTP: MISP's REST API (POST /attributes/restSearch) and plain feed URLs,
// each cached on disk with a TTL. When the server cannot be reached (transport errors, 5xx)
// and an older copy exists, the stale copy is used and a warning says so.
#include <cstdint>
#include <string>

#include "sds/core/expected.hpp"

namespace sds::enrich {

struct remote_options {
    std::string cache_dir;       // where cached bodies live (created when missing)
    int64_t ttl_ms = 3600'000;   // a cached body younger than this is used without asking
    std::string ca_file;         // extra CA bundle for TLS verification
    int64_t now_ms = 0;
};

struct fetched {
    std::string body;
    bool from_cache = false;
    bool stale = false;
    std::string warning;  // set when a stale copy was used
};

struct misp_query {
    std::string url;       // MISP base URL (https://misp.example.org)
    std::string key;       // the automation key (Authorization header)
    bool include_non_ids = false;
    std::string last;      // MISP "last" filter (e.g. "30d"); empty = none
};

// The JSON body sent to restSearch for `q` (exposed for tests).
std::string misp_request_body(const misp_query& q);

expected<fetched> fetch_misp(const misp_query& q, const remote_options& o);
expected<fetched> fetch_url(const std::string& url, const remote_options& o);

// $XDG_CACHE_HOME/sds or ~/.cache/sds.
std::string default_cache_dir();

}  // namespace sds::enrich
