// --to FILE: NDJSON as it came (gzip when the name ends in .gz), and the S3 data-lake sink.
#include <fmt/format.h>
#include <zlib.h>

#include <chrono>
#include <map>

#include "sds/aws/credentials.hpp"
#include "sds/aws/sigv4.hpp"
#include "sds/core/time.hpp"
#include "sds/json/path.hpp"
#include "sds/ship/bulk.hpp"
#include "sds/ship/sink.hpp"

#include <unistd.h>

namespace sds::ship {

namespace {

bool ends_with(std::string_view s, std::string_view e) { return s.size() >= e.size() && s.substr(s.size() - e.size()) == e; }

// Streaming gzip into a string.
class gzip_stream {
public:
    gzip_stream() { deflateInit2(&z_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY); }
    ~gzip_stream() { deflateEnd(&z_); }
    gzip_stream(const gzip_stream&) = delete;
    gzip_stream& operator=(const gzip_stream&) = delete;
    void write(std::string_view in, std::string& out, bool finish = false) {
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        int flush = finish ? Z_FINISH : Z_NO_FLUSH;
        for (;;) {
            size_t start = out.size();
            out.resize(start + 65536);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + start);
            z_.avail_out = 65536;
            int rc = deflate(&z_, flush);
            out.resize(start + (65536 - z_.avail_out));
            if (finish ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) break;
        }
    }

private:
    z_stream z_{};
};

class file_sink final : public sink {
public:
    file_sink(cli::tool& t, const options& o) : t_(t), gz_(ends_with(o.to, ".gz")) { out_.open(o.to); }
    status add(const record_ref& r) override {
        if (gz_) {
            line_.assign(r.text);
            line_.push_back('\n');
            zs_.write(line_, out_.buffer());
        } else {
            out_.buffer().append(r.text);
            out_.buffer().push_back('\n');
        }
        out_.commit();
        ++t_.count().out;
        return {};
    }
    exit_code finish() override {
        if (gz_) zs_.write({}, out_.buffer(), true);
        out_.close();
        t_.count().bytes_out += out_.bytes_written();
        return exit_code::ok;
    }

private:
    cli::tool& t_;
    bool gz_;
    io::output out_;
    gzip_stream zs_;
    std::string line_;
};

// ---- S3 ----

struct s3_target {
    std::string endpoint;  // scheme://host[:port] (path-style) or empty (AWS virtual-hosted)
    std::string bucket;
    std::string prefix;  // ends with '/' or empty
    std::string region;
};

class s3_sink final : public sink {
public:
    s3_sink(cli::tool& t, const options& o, s3_target target, std::shared_ptr<aws::credentials_provider> creds)
        : t_(t), o_(o), target_(std::move(target)), creds_(std::move(creds)) {
        char host[256] = "host";
        gethostname(host, sizeof host - 1);
        stem_ = fmt::format("{}-{}-{}", host, getpid(), time::now());
    }

    status add(const record_ref& r) override {
        std::string dt = partition_of(r);
        auto it = open_.find(dt);
        if (it == open_.end()) {
            it = open_.emplace(dt, std::make_unique<object>()).first;
            it->second->since = std::chrono::steady_clock::now();
        }
        object& ob = *it->second;
        line_.assign(r.text);
        line_.push_back('\n');
        ob.zs.write(line_, ob.data);
        ++ob.records;
        ob.raw_bytes += line_.size();
        if (ob.raw_bytes >= o_.roll_bytes) {
            auto s = upload(dt, ob);
            open_.erase(dt);
            if (!s) return s;
        }
        // Objects older than --roll-interval go up too.
        auto now = std::chrono::steady_clock::now();
        for (auto o = open_.begin(); o != open_.end();) {
            if (now - o->second->since >= std::chrono::duration<double>(o_.roll_interval)) {
                auto s = upload(o->first, *o->second);
                o = open_.erase(o);
                if (!s) return s;
            } else {
                ++o;
            }
        }
        return {};
    }

    exit_code finish() override {
        exit_code worst_seen = exit_code::ok;
        for (auto& [dt, ob] : open_) {
            if (failed_) {
                ob->zs.write({}, ob->data, true);
                dead_letter_object(*ob, "not delivered: " + fail_msg_);
                continue;
            }
            if (auto s = upload(dt, *ob); !s) {
                t_.error(s.err().message);
                worst_seen = exit_code::runtime;
            }
        }
        open_.clear();
        t_.add_stat("objects", std::to_string(objects_));
        return failed_ ? exit_code::runtime : worst_seen;
    }

private:
    struct object {
        gzip_stream zs;
        std::string data;
        uint64_t records = 0;
        uint64_t raw_bytes = 0;
        std::chrono::steady_clock::time_point since;
    };

    std::string partition_of(const record_ref& r) {
        std::optional<time::millis> t;
        if (auto v = json::find(r.doc, o_.partition_field)) {
            if (v->is_string()) {
                std::string_view s = v->get_string().value_unsafe();
                t = time::parse_iso8601(s);
                if (!t) t = time::parse_epoch(s);
            } else if (v->is_int64()) {
                int64_t n = v->get_int64().value_unsafe();
                t = n > 100'000'000'000LL ? n : n * 1000;
            }
        }
        if (!t) {
            ++fallback_;
            t = time::now();
        }
        return time::rfc3339(*t).substr(0, 10);
    }

    std::string url_for(const std::string& key, const std::string& query = {}) const {
        std::string u;
        if (!target_.endpoint.empty())
            u = target_.endpoint + "/" + target_.bucket + "/" + net::uri_encode(key, true);
        else
            u = fmt::format("https://{}.s3.{}.amazonaws.com/{}", target_.bucket, target_.region, net::uri_encode(key, true));
        if (!query.empty()) u += "?" + query;
        return u;
    }

    expected<net::response> send(const std::string& method, const std::string& url, std::string_view body) {
        std::string last;
        for (int attempt = 0; attempt <= o_.max_retries; ++attempt) {
            if (attempt > 0) {
                double d = backoff_seconds(attempt, o_.retry_delay, o_.retry_max_delay, 0.5);
                usleep(static_cast<useconds_t>(d * 1e6));
            }
            net::request req;
            req.method = method;
            req.url = url;
            req.body = body;
            req.ca_file = o_.cacert;
            req.insecure = o_.insecure;
            req.total_timeout = std::chrono::milliseconds(static_cast<long long>(o_.timeout * 1000));
            auto c = creds_->get();
            if (!c) return c.err();
            if (auto s = aws::sign(req, *c, aws::s3_sign_options(target_.region, false)); !s) return s.err();
            auto r = client_.perform(req);
            if (!r) {
                last = r.err().message;
                continue;
            }
            if (r->status == 429 || r->status >= 500 || r->status == 408) {
                last = fmt::format("{} {} (HTTP {})", method, net::redact_url(url), r->status);
                continue;
            }
            if (r->status < 200 || r->status >= 300)
                return make_error(exit_code::runtime, fmt::format("{} {} refused (HTTP {}: {})", method,
                                                                  net::redact_url(url), r->status, r->body.substr(0, 200)));
            return r;
        }
        return make_error(exit_code::runtime, fmt::format("{} (gave up after {} retries)", last, o_.max_retries));
    }

    status upload(const std::string& dt, object& ob) {
        if (failed_) {
            ob.zs.write({}, ob.data, true);
            dead_letter_object(ob, "not delivered: " + fail_msg_);
            return make_error(exit_code::runtime, fail_msg_);
        }
        ob.zs.write({}, ob.data, true);
        std::string key = fmt::format("{}dt={}/{}-{:06}.ndjson.gz", target_.prefix, dt, stem_, ++seq_);
        status s = ob.data.size() > multipart_threshold ? put_multipart(key, ob.data) : put_single(key, ob.data);
        if (!s) {
            failed_ = true;
            fail_msg_ = s.err().message;
            dead_letter_object(ob, "not delivered: " + fail_msg_);
            return s;
        }
        ++objects_;
        t_.count().out += ob.records;
        t_.count().bytes_out += ob.data.size();
        t_.info(fmt::format("uploaded s3://{}/{} ({} records)", target_.bucket, key, ob.records));
        return {};
    }

    status put_single(const std::string& key, std::string_view data) {
        auto r = send("PUT", url_for(key), data);
        if (!r) return r.err();
        return {};
    }

    status put_multipart(const std::string& key, std::string_view data) {
        auto init = send("POST", url_for(key, "uploads="), {});
        if (!init) return init.err();
        auto a = init->body.find("<UploadId>"), b = init->body.find("</UploadId>");
        if (a == std::string::npos || b == std::string::npos)
            return make_error(exit_code::runtime, fmt::format("multipart upload: no UploadId for {}", key));
        std::string id = init->body.substr(a + 10, b - a - 10);
        std::string done = "<CompleteMultipartUpload>";
        int part = 0;
        for (size_t off = 0; off < data.size(); off += part_size) {
            ++part;
            auto r = send("PUT", url_for(key, fmt::format("partNumber={}&uploadId={}", part, net::uri_encode(id))),
                          data.substr(off, part_size));
            if (!r) {
                (void)send("DELETE", url_for(key, "uploadId=" + net::uri_encode(id)), {});
                return r.err();
            }
            auto etag = r->header("ETag");
            done += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", part, etag ? *etag : "");
        }
        done += "</CompleteMultipartUpload>";
        auto c = send("POST", url_for(key, "uploadId=" + net::uri_encode(id)), done);
        if (!c) return c.err();
        if (c->body.find("<Error>") != std::string::npos)
            return make_error(exit_code::runtime, fmt::format("multipart upload of {} failed: {}", key, c->body.substr(0, 200)));
        return {};
    }

    // The records of an object that could not be uploaded, back out of its gzip data.
    void dead_letter_object(object& ob, const std::string& reason) {
        z_stream z{};
        inflateInit2(&z, 15 + 16);
        std::string text;
        text.resize(ob.raw_bytes + 16);
        z.next_in = reinterpret_cast<Bytef*>(ob.data.data());
        z.avail_in = static_cast<uInt>(ob.data.size());
        z.next_out = reinterpret_cast<Bytef*>(text.data());
        z.avail_out = static_cast<uInt>(text.size());
        inflate(&z, Z_FINISH);
        text.resize(z.total_out);
        inflateEnd(&z);
        size_t pos = 0;
        uint64_t n = 0;
        while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) nl = text.size();
            t_.reject(reason, "s3", 0, std::string_view(text).substr(pos, nl - pos));
            ++n;
            pos = nl + 1;
        }
        ob.records = 0;
    }

    static constexpr size_t multipart_threshold = 16u << 20;
    static constexpr size_t part_size = 8u << 20;
    cli::tool& t_;
    const options& o_;
    s3_target target_;
    std::shared_ptr<aws::credentials_provider> creds_;
    net::client client_;
    std::map<std::string, std::unique_ptr<object>> open_;
    std::string line_;
    std::string stem_;
    uint64_t seq_ = 0;
    uint64_t objects_ = 0;
    uint64_t fallback_ = 0;
    bool failed_ = false;
    std::string fail_msg_;
};

}  // namespace

expected<std::unique_ptr<sink>> make_file_sink(cli::tool& t, const options& o) {
    try {
        return std::unique_ptr<sink>(std::make_unique<file_sink>(t, o));
    } catch (const io::write_error& e) {
        return make_error(exit_code::runtime, e.what());
    }
}

expected<std::unique_ptr<sink>> make_s3_sink(cli::tool& t, const options& o) {
    s3_target target;
    std::string_view rest = std::string_view(o.to).substr(5);
    auto slash = rest.find('/');
    target.bucket = std::string(rest.substr(0, slash));
    if (target.bucket.empty()) return make_error(exit_code::usage, fmt::format("--to: no bucket in {}", o.to));
    if (slash != std::string_view::npos) target.prefix = std::string(rest.substr(slash + 1));
    if (!target.prefix.empty() && target.prefix.back() != '/') target.prefix.push_back('/');
    target.endpoint = o.endpoint_url;
    while (!target.endpoint.empty() && target.endpoint.back() == '/') target.endpoint.pop_back();
    target.region = o.region;
    if (target.region.empty())
        if (const char* r = std::getenv("AWS_REGION")) target.region = r;
    if (target.region.empty())
        if (const char* r = std::getenv("AWS_DEFAULT_REGION")) target.region = r;
    if (target.region.empty()) target.region = "us-east-1";
    aws::chain_options co;
    co.profile = o.profile;
    co.region = target.region;
    auto p = aws::credentials_provider::make_default(co);
    if (!p) return p.err();
    return std::unique_ptr<sink>(std::make_unique<s3_sink>(t, o, std::move(target), *p));
}

}  // namespace sds::ship
