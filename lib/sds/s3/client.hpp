#pragma once
// A small S3 client: ListObjectsV2 (one page at a time) and GetObject streamed to a sink, with
// retries (jittered exponential backoff) on 500/503/SlowDown, transport failures and truncated
// bodies. A retried GetObject resumes where the body stopped (Range + If-Match on the ETag), so
// the bytes a caller has already received are never sent twice.
//
// One client per thread (it owns one net::client); the credentials provider is shared.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sds/aws/credentials.hpp"
#include "sds/core/expected.hpp"
#include "sds/net/http.hpp"

namespace sds::s3 {

enum class addressing { auto_, path, virtual_ };

struct config {
    std::string endpoint;  // empty: https://s3.<region>.amazonaws.com
    std::string region = "us-east-1";
    addressing style = addressing::auto_;  // auto: virtual-hosted on AWS, path-style elsewhere
    std::shared_ptr<aws::credentials_provider> creds;
    unsigned max_keys = 1000;                          // ListObjectsV2 page size
    int max_attempts = 5;                              // per request, the first included
    std::chrono::milliseconds backoff_base{200};       // doubled per attempt, full jitter
    std::chrono::milliseconds backoff_cap{10'000};
    std::chrono::seconds stall_timeout{60};
    std::string ca_file;
    bool insecure = false;
};

struct object {
    std::string bucket;
    std::string key;
    std::string etag;  // as S3 sends it, with its quotes
    uint64_t size = 0;
    std::string last_modified;
    std::string uri() const { return "s3://" + bucket + "/" + key; }
};

struct list_page {
    std::vector<object> objects;
    std::vector<std::string> prefixes;  // CommonPrefixes (with a delimiter)
    std::string next_token;             // empty: last page
};

// Splits "s3://bucket/prefix" (prefix may be empty).
expected<std::pair<std::string, std::string>> parse_s3_uri(std::string_view uri);

class client {
public:
    explicit client(config cfg);
    ~client();

    // One ListObjectsV2 page.
    expected<list_page> list_page_of(const std::string& bucket, const std::string& prefix,
                                     const std::string& delimiter, const std::string& token);

    // Streams the object's body into `sink`, from byte `offset` on. With an ETag, a resumed
    // request asks for the same version (If-Match). 403/404 fail at once (exit 3); retryable
    // failures are retried up to max_attempts. Returns the bytes delivered.
    using sink_fn = std::function<bool(std::string_view)>;
    expected<uint64_t> get(const object& obj, const sink_fn& sink);

    // Number of requests sent, by kind (for -v and tests).
    uint64_t list_requests() const noexcept { return lists_; }
    uint64_t retries() const noexcept { return retries_; }

    const config& cfg() const noexcept { return cfg_; }

private:
    expected<net::request> make_request(const std::string& bucket, const std::string& key_path,
                                        const std::string& query);
    void backoff(int attempt);
    config cfg_;
    net::client http_;
    uint64_t lists_ = 0;
    uint64_t retries_ = 0;
};

// The "what (why)" of an S3 error document: "http 403 AccessDenied: Access Denied".
std::string describe_error(long status, std::string_view body);

}  // namespace sds::s3
