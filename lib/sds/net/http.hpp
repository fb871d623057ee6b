#pragma once
// A small HTTP client over libcurl's easy API, shared by every networked part of sds
// (S3, STS, IMDS, container credentials, Elasticsearch, MISP).
//
// One `client` owns one curl handle and reuses it (and its kept-alive connections) across
// requests. A client is not thread-safe: give each worker thread its own.
// Errors are one line, "what: where (why)"; URLs in messages never carry their query string
// (presigned URLs hold signatures and session tokens there).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sds/core/expected.hpp"

namespace sds::net {

struct header {
    std::string name;
    std::string value;
};
using header_list = std::vector<header>;

// Case-insensitive ASCII comparison, as HTTP header names want.
bool iequals(std::string_view a, std::string_view b) noexcept;

// The value of the first header named `name` (case-insensitive), if any.
std::optional<std::string_view> find_header(const header_list& headers, std::string_view name);

struct request {
    std::string method = "GET";
    std::string url;
    header_list headers;
    std::string_view body;  // must outlive the call
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds total_timeout{0};  // 0 = no limit (streams may be long)
    // Abort when fewer than 1 byte/s arrives for this long (0 = off): catches stalled streams.
    std::chrono::seconds stall_timeout{0};
    std::string ca_file;    // extra CA bundle (PEM); empty = system store
    bool insecure = false;  // skip TLS peer and host verification (verification is on by default)
};

struct response {
    long status = 0;
    header_list headers;
    std::string body;
    std::optional<std::string_view> header(std::string_view name) const {
        return find_header(headers, name);
    }
};

// Receives body bytes as they arrive; return false to abort the transfer.
using chunk_sink = std::function<bool(std::string_view chunk)>;

class client {
public:
    client();
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Sends the request and buffers the whole response body.
    // Any HTTP status is a value; only transport failures are errors.
    expected<response> perform(const request& req);

    // Sends the request and hands a 2xx response's body to `sink` chunk by chunk; the body of a
    // non-2xx response is kept in response.body instead (at most 64 KiB), so callers can read
    // the server's error document. If `sink` returns false the transfer stops and an error
    // "... (aborted by the receiver)" comes back.
    expected<response> perform_streaming(const request& req, const chunk_sink& sink);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The URL without its query string and fragment (for messages).
std::string redact_url(std::string_view url);

// Percent-encodes every byte except RFC 3986 unreserved characters (and '/' if keep_slash).
std::string uri_encode(std::string_view s, bool keep_slash = false);

// Decodes %XX escapes (and '+' as space if plus_is_space). Malformed escapes stay as they are.
std::string uri_decode(std::string_view s, bool plus_is_space = false);

// Pieces of an absolute http(s) URL.
struct url_parts {
    std::string scheme;  // lower-case
    std::string host;    // without brackets for IPv6
    std::string port;    // empty if absent
    std::string path;    // "/" if absent; as written (still percent-encoded)
    std::string query;   // without '?'; empty if absent
    // host[:port] as the Host header wants it (brackets for IPv6, default port dropped).
    std::string authority() const;
};
expected<url_parts> parse_url(std::string_view url);

}  // namespace sds::net
