#include "sds/s3/client.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <random>
#include <thread>

#include "sds/aws/sigv4.hpp"
#include "sds/core/signals.hpp"

namespace sds::s3 {
namespace {

pugi::xml_node find(pugi::xml_node root, const char* name) {
    return root.find_node([name](pugi::xml_node n) { return std::string_view(n.name()) == name; });
}

bool retryable_status(long s) { return s == 500 || s == 502 || s == 503 || s == 504 || s == 429; }

bool dns_compatible(std::string_view bucket) {
    if (bucket.empty() || bucket.size() > 63) return false;
    for (char c : bucket)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

}  // namespace

expected<std::pair<std::string, std::string>> parse_s3_uri(std::string_view uri) {
    if (uri.rfind("s3://", 0) != 0) return make_error(exit_code::usage, fmt::format("not an s3:// URI: {}", uri));
    std::string_view rest = uri.substr(5);
    auto slash = rest.find('/');
    std::string bucket(rest.substr(0, slash));
    std::string prefix = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
    if (bucket.empty()) return make_error(exit_code::usage, fmt::format("no bucket in: {}", uri));
    return std::make_pair(bucket, prefix);
}

std::string describe_error(long status, std::string_view body) {
    std::string why = fmt::format("http {}", status);
    pugi::xml_document doc;
    if (!body.empty() && doc.load_buffer(body.data(), body.size())) {
        auto err = find(doc, "Error");
        std::string code = find(err, "Code").child_value();
        std::string msg = find(err, "Message").child_value();
        if (!code.empty()) why += " " + code;
        if (!msg.empty()) why += ": " + msg.substr(0, 200);
    }
    return why;
}

client::client(config cfg) : cfg_(std::move(cfg)) {}
client::~client() = default;

void client::backoff(int attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto cap = std::min<int64_t>(cfg_.backoff_cap.count(), cfg_.backoff_base.count() << std::min(attempt, 20));
    std::uniform_int_distribution<int64_t> dist(cap / 4, std::max<int64_t>(cap / 4, cap));
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(dist(rng));
    while (!interrupted() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

expected<net::request> client::make_request(const std::string& bucket, const std::string& key_path,
                                            const std::string& query) {
    std::string endpoint = cfg_.endpoint.empty() ? "https://s3." + cfg_.region + ".amazonaws.com" : cfg_.endpoint;
    auto u = net::parse_url(endpoint);
    if (!u) return u.err();
    addressing style = cfg_.style;
    if (style == addressing::auto_)
        style = (cfg_.endpoint.empty() && dns_compatible(bucket)) ? addressing::virtual_ : addressing::path;
    std::string base_path = u->path == "/" ? std::string() : u->path;
    if (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
    net::request req;
    std::string path;
    std::string authority = u->authority();
    if (style == addressing::virtual_) {
        authority = bucket + "." + authority;
        path = base_path + key_path;
    } else {
        path = base_path + "/" + net::uri_encode(bucket) + key_path;
    }
    if (path.empty()) path = "/";
    req.url = u->scheme + "://" + authority + path + (query.empty() ? "" : "?" + query);
    req.stall_timeout = cfg_.stall_timeout;
    req.ca_file = cfg_.ca_file;
    req.insecure = cfg_.insecure;
    auto creds = cfg_.creds->get();
    if (!creds) return creds.err();
    if (auto st = aws::sign(req, *creds, aws::s3_sign_options(cfg_.region)); !st) return st.err();
    return req;
}

expected<list_page> client::list_page_of(const std::string& bucket, const std::string& prefix,
                                         const std::string& delimiter, const std::string& token) {
    std::string query = "list-type=2";
    if (!token.empty()) query += "&continuation-token=" + net::uri_encode(token);
    if (!delimiter.empty()) query += "&delimiter=" + net::uri_encode(delimiter);
    query += "&encoding-type=url";
    if (cfg_.max_keys != 1000) query += "&max-keys=" + std::to_string(cfg_.max_keys);
    if (!prefix.empty()) query += "&prefix=" + net::uri_encode(prefix);
    const std::string where = "s3://" + bucket + "/" + prefix;
    std::string last_why;
    for (int attempt = 0; attempt < cfg_.max_attempts; ++attempt) {
        if (attempt > 0) {
            ++retries_;
            backoff(attempt);
            if (interrupted()) return make_error(exit_code::interrupted, "interrupted");
        }
        auto req = make_request(bucket, "/", query);
        if (!req) return req.err();
        ++lists_;
        auto resp = http_.perform(*req);
        if (!resp) {
            last_why = resp.err().message;
            continue;
        }
        if (retryable_status(resp->status)) {
            last_why = describe_error(resp->status, resp->body);
            continue;
        }
        if (resp->status != 200)
            return make_error(exit_code::runtime,
                              fmt::format("cannot list: {} ({})", where, describe_error(resp->status, resp->body)));
        pugi::xml_document doc;
        auto ok = doc.load_buffer(resp->body.data(), resp->body.size());
        if (!ok) {
            last_why = std::string("listing is not XML: ") + ok.description();
            continue;
        }
        auto root = find(doc, "ListBucketResult");
        bool url_encoded = std::string_view(find(root, "EncodingType").child_value()) == "url";
        auto dec = [&](const char* s) { return url_encoded ? net::uri_decode(s) : std::string(s); };
        list_page page;
        for (auto n : root.children()) {
            std::string_view name = n.name();
            if (name == "Contents") {
                object o;
                o.bucket = bucket;
                o.key = dec(n.child("Key").child_value());
                o.etag = n.child("ETag").child_value();
                o.size = std::strtoull(n.child("Size").child_value(), nullptr, 10);
                o.last_modified = n.child("LastModified").child_value();
                page.objects.push_back(std::move(o));
            } else if (name == "CommonPrefixes") {
                page.prefixes.push_back(dec(n.child("Prefix").child_value()));
            }
        }
        if (std::string_view(find(root, "IsTruncated").child_value()) == "true") {
            page.next_token = find(root, "NextContinuationToken").child_value();
            if (page.next_token.empty())
                return make_error(exit_code::runtime,
                                  fmt::format("cannot list: {} (truncated listing without a continuation token)", where));
        }
        return page;
    }
    return make_error(exit_code::runtime,
                      fmt::format("cannot list: {} ({}; gave up after {} attempts)", where, last_why, cfg_.max_attempts));
}

expected<uint64_t> client::get(const object& obj, const sink_fn& sink) {
    const std::string key_path = "/" + net::uri_encode(obj.key, true);
    uint64_t delivered = 0;
    bool sink_stopped = false;
    std::string last_why;
    for (int attempt = 0; attempt < cfg_.max_attempts; ++attempt) {
        if (attempt > 0) {
            ++retries_;
            backoff(attempt);
            if (interrupted()) return make_error(exit_code::interrupted, "interrupted");
        }
        auto req = make_request(obj.bucket, key_path, "");
        if (!req) return req.err();
        if (delivered > 0) {
            // Resume: the rest of the same version only. Added after signing: S3 does not need
            // these headers signed (they are not x-amz-*), and sign() keeps unsigned ones.
            req->headers.push_back({"Range", fmt::format("bytes={}-", delivered)});
            if (!obj.etag.empty()) req->headers.push_back({"If-Match", obj.etag});
        }
        auto resp = http_.perform_streaming(*req, [&](std::string_view chunk) {
            if (!sink(chunk)) {
                sink_stopped = true;
                return false;
            }
            delivered += chunk.size();
            return true;
        });
        if (sink_stopped) return make_error(exit_code::runtime, fmt::format("read stopped: {}", obj.uri()));
        if (!resp) {
            last_why = resp.err().message;
            continue;
        }
        long s = resp->status;
        if (s == 200 || s == 206) {
            // curl catches a body shorter than its Content-Length; a short object against the
            // listed size is caught here.
            if (obj.size > 0 && delivered < obj.size) {
                last_why = fmt::format("truncated body: {} of {} bytes", delivered, obj.size);
                continue;
            }
            return delivered;
        }
        if (s == 416 && delivered > 0 && delivered >= obj.size) return delivered;
        if (retryable_status(s)) {
            last_why = describe_error(s, resp->body);
            continue;
        }
        if (s == 412)
            return make_error(exit_code::runtime,
                              fmt::format("cannot read: {} (object changed while it was read)", obj.uri()));
        return make_error(exit_code::runtime, fmt::format("cannot read: {} ({})", obj.uri(), describe_error(s, resp->body)));
    }
    return make_error(exit_code::runtime, fmt::format("cannot read: {} ({}; gave up after {} attempts)", obj.uri(),
                                                      last_why, cfg_.max_attempts));
}

}  // namespace sds::s3
