#pragma once
// AWS Signature Version 4 (HMAC-SHA256), header-signed and presigned (query) forms.
// The intermediate texts (canonical request, string to sign) are returned so tests can compare
// them with the AWS test suites.
#include <chrono>
#include <string>
#include <string_view>

#include "sds/aws/credentials.hpp"
#include "sds/core/expected.hpp"
#include "sds/net/http.hpp"

namespace sds::aws {

struct sign_options {
    std::string region;
    std::string service;
    bool normalize_path = true;         // remove "." / ".." segments and repeated '/'; false for S3
    bool double_encode = true;          // percent-encode the (already encoded) path again; false for S3
    bool content_sha256_header = false; // add and sign x-amz-content-sha256 (S3 wants it)
    bool unsigned_payload = false;      // sign "UNSIGNED-PAYLOAD" instead of the body's hash
    bool sign_session_token = true;     // false: X-Amz-Security-Token is added after signing
    std::string payload_hash;           // hex SHA-256 of the body if already known; empty = compute
};

// The options S3 wants: no path normalisation, no double encoding, x-amz-content-sha256.
sign_options s3_sign_options(std::string region, bool unsigned_payload = true);

// What to sign. `path` and `query` are as they go on the wire (percent-encoded, no '?').
struct signing_input {
    std::string method = "GET";
    std::string path = "/";
    std::string query;
    net::header_list headers;  // should include Host
    std::string_view body;
};

struct signature_parts {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;       // lower-case hex
    std::string signed_headers;  // "host;x-amz-date"
    // Header form: the headers to add to the request, in this order: X-Amz-Date,
    // [X-Amz-Security-Token], [x-amz-content-sha256], Authorization.
    net::header_list added_headers;
    // Query form: the complete query string to send (the original parameters, then X-Amz-*).
    std::string query;
};

using time_point = std::chrono::system_clock::time_point;

// Signs with an Authorization header. Existing X-Amz-Date / Authorization headers in `in` are
// ignored (replaced by the added ones).
signature_parts sign_headers(const signing_input& in, const credentials& creds, const sign_options& opt,
                             time_point when);

// Presigns: the signature travels in the query string, valid for `expires`.
signature_parts presign_query(const signing_input& in, const credentials& creds, const sign_options& opt,
                              time_point when, std::chrono::seconds expires);

// Signs a ready-to-send request in place: adds Host (if absent) and the signature headers.
status sign(net::request& req, const credentials& creds, const sign_options& opt,
            time_point when = std::chrono::system_clock::now());

// Returns the URL with presigned query parameters.
expected<std::string> presign_url(std::string_view method, std::string_view url, const credentials& creds,
                                  const sign_options& opt, std::chrono::seconds expires,
                                  time_point when = std::chrono::system_clock::now());

// Building blocks, exposed for tests and for other signers.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string to_hex(std::string_view bytes);
std::string amz_date(time_point when);  // 20150830T123600Z
std::string canonical_uri(std::string_view path, bool normalize, bool double_encode);
std::string canonical_query(std::string_view query);
std::string canonical_header_value(std::string_view value);  // trimmed, whitespace runs collapsed

}  // namespace sds::aws
