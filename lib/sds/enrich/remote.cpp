#include "sds/enrich/remote.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sds/core/hash.hpp"
#include "sds/json/escape.hpp"
#include "sds/net/http.hpp"

namespace sds::enrich {

namespace fs = std::filesystem;

std::string default_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/sds";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/sds";
    return "/tmp/sds-cache";
}

std::string misp_request_body(const misp_query& q) {
    std::string b = "{\"returnFormat\":\"json\"";
    b += ",\"type\":[\"ip-src\",\"ip-dst\",\"ip-src|port\",\"ip-dst|port\",\"domain\",\"hostname\",\"domain|ip\","
         "\"url\",\"md5\",\"sha1\",\"sha256\",\"filename|md5\",\"filename|sha1\",\"filename|sha256\"]";
    if (!q.include_non_ids) b += ",\"to_ids\":true";
    if (!q.last.empty()) {
        b += ",\"last\":";
        json::append_string(b, q.last);
    }
    b += ",\"includeEventTags\":true,\"deleted\":false}";
    return b;
}

namespace {

struct cache_entry {
    std::string path;
    bool exists = false;
    int64_t mtime_ms = 0;
};

cache_entry cache_for(const remote_options& o, std::string_view key) {
    cache_entry c;
    c.path = fmt::format("{}/intel-{}.json", o.cache_dir, hash::hex128(key).substr(0, 24));
    struct stat st {};
    if (::stat(c.path.c_str(), &st) == 0) {
        c.exists = true;
        c.mtime_ms = int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    }
    return c;
}

expected<std::string> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(exit_code::runtime, fmt::format("cannot read cache: {}", path));
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::move(ss).str();
}

status write_atomic(const std::string& path, const std::string& body) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(body.data(), std::streamsize(body.size()));
        if (!out) return make_error(exit_code::runtime, fmt::format("cannot write cache: {}", tmp));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return make_error(exit_code::runtime, fmt::format("cannot write cache: {}", path));
    }
    return {};
}

// Fresh cache → use it; otherwise ask; on a failure to reach the server fall back to a stale copy.
expected<fetched> cached(const net::request& req, std::string_view key, const remote_options& o, std::string_view what) {
    auto c = cache_for(o, key);
    if (c.exists && o.now_ms - c.mtime_ms < o.ttl_ms) {
        auto body = read_all(c.path);
        if (body) return fetched{std::move(*body), true, false, {}};
    }
    net::client client;
    auto r = client.perform(req);
    std::string why;
    if (!r) {
        why = r.err().message;
    } else if (r->status == 401 || r->status == 403) {
        return make_error(exit_code::runtime, fmt::format("{}: authentication failed: {} (HTTP {})", what,
                                                          net::redact_url(req.url), r->status));
    } else if (r->status >= 200 && r->status < 300) {
        if (auto s = write_atomic(c.path, r->body); !s) {
            fetched f{std::move(r->body), false, false, s.err().message};
            return f;
        }
        return fetched{std::move(r->body), false, false, {}};
    } else {
        why = fmt::format("{}: {} (HTTP {})", what, net::redact_url(req.url), r->status);
        if (r->status < 500 && r->status != 429)
            return make_error(exit_code::runtime, why);
    }
    if (c.exists) {
        auto body = read_all(c.path);
        if (body) {
            int64_t age_s = (o.now_ms - c.mtime_ms) / 1000;
            return fetched{std::move(*body), true, true,
                           fmt::format("{} unreachable, using a cached copy {}s old ({})", what, age_s, why)};
        }
    }
    return make_error(exit_code::runtime, why.empty() ? fmt::format("{}: cannot fetch {}", what, net::redact_url(req.url)) : why);
}

}  // namespace

expected<fetched> fetch_misp(const misp_query& q, const remote_options& o) {
    std::string base = q.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string body = misp_request_body(q);
    net::request req;
    req.method = "POST";
    req.url = base + "/attributes/restSearch";
    req.headers = {{"Authorization", q.key}, {"Accept", "application/json"}, {"Content-Type", "application/json"}};
    req.body = body;
    req.ca_file = o.ca_file;
    req.total_timeout = std::chrono::milliseconds(300'000);
    // The key is part of the cache key (different users may see different events) but only
    // through a hash.
    std::string key = fmt::format("misp\n{}\n{}\n{}", req.url, body, hash::hex128(q.key));
    return cached(req, key, o, "misp");
}

expected<fetched> fetch_url(const std::string& url, const remote_options& o) {
    net::request req;
    req.url = url;
    req.ca_file = o.ca_file;
    req.total_timeout = std::chrono::milliseconds(300'000);
    return cached(req, "url\n" + url, o, "intel feed");
}

}  // namespace sds::enrich
