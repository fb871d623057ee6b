// es_bench_server: an Elasticsearch-compatible _bulk endpoint fast enough that a bulk loader's
// benchmark measures the loader, not the server (tests/bench/ship/bench_ship.py). It keeps ids
// and versions, never sources: the equivalent of es_server.py --skip-doc-parsing --no-source at
// well under a microsecond of CPU per document. The full API for functional tests stays in
// es_server.py; tests/servers/es/README.md lists what this one answers.
//
//   es_bench_server [--host 127.0.0.1] [--port 9200] [--port-file F] [--max-body-bytes N] [-v]
//
// One thread per connection, blocking sockets, buffers reused for the life of the connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "es_bench_bulk.hpp"

namespace es_bench {
namespace {

struct config {
    std::string host = "127.0.0.1";
    int port = 9200;
    std::string port_file;
    size_t max_body = size_t{100} << 20;
    bool verbose = false;
};

config cfg;
store db;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return true;
    return false;
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

class connection {
public:
    explicit connection(int fd) : fd_(fd) {}
    ~connection() { close(fd_); }
    void serve();

private:
    // Copies, not views: reading the body may move buf_.
    struct request {
        std::string line, method, path, query, content_type, content_encoding;
        size_t content_length = 0;
        bool chunked = false, expect_continue = false, close = false;
    };
    bool fill(size_t need);  // until buf_ holds `need` bytes past pos_
    bool read_chunked(size_t body_at);
    bool send_all(std::string_view head, std::string_view body);
    bool respond(int status, std::string_view body, bool head_only = false, bool close = false);
    bool route(const request& rq, std::string_view body);

    int fd_;
    std::vector<char> buf_ = std::vector<char>(1 << 16);
    size_t pos_ = 0, len_ = 0;  // unread bytes are buf_[pos_, len_)
    std::vector<char> chunked_, inflated_;
    std::string out_, head_;
    bulk_handler bulk_;
    request rq_;
};

bool connection::fill(size_t need) {
    if (pos_ + need + simdjson::SIMDJSON_PADDING > buf_.size()) {
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
            len_ -= pos_;
            pos_ = 0;
        }
        if (need + simdjson::SIMDJSON_PADDING > buf_.size()) buf_.resize(need + simdjson::SIMDJSON_PADDING + (1 << 16));
    }
    while (len_ - pos_ < need) {
        ssize_t n = ::recv(fd_, buf_.data() + len_, buf_.size() - simdjson::SIMDJSON_PADDING - len_, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        len_ += static_cast<size_t>(n);
        std::lock_guard lk(db.io_m);
        db.st.bytes_in += static_cast<size_t>(n);
    }
    return true;
}

bool connection::send_all(std::string_view head, std::string_view body) {
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
    int n_iov = 2;
    iovec* v = iov;
    while (n_iov > 0) {
        msghdr mh{};
        mh.msg_iov = v;
        mh.msg_iovlen = static_cast<size_t>(n_iov);
        ssize_t n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        auto left = static_cast<size_t>(n);
        while (n_iov > 0 && left >= v->iov_len) {
            left -= v->iov_len;
            ++v;
            --n_iov;
        }
        if (n_iov > 0) {
            v->iov_base = static_cast<char*>(v->iov_base) + left;
            v->iov_len -= left;
        }
    }
    return true;
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 406: return "Not Acceptable";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    default: return "Error";
    }
}

bool connection::respond(int status, std::string_view body, bool head_only, bool close) {
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(status);
    head_ += ' ';
    head_ += reason_phrase(status);
    head_ += "\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application/json\r\ncontent-length: ";
    head_ += std::to_string(body.size());
    head_ += close ? "\r\nconnection: close\r\n\r\n" : "\r\n\r\n";
    {
        std::lock_guard lk(db.io_m);
        db.st.bytes_out += head_.size() + (head_only ? 0 : body.size());
    }
    return send_all(head_, head_only ? std::string_view{} : body) && !close;
}

bool connection::read_chunked(size_t at) {
    chunked_.clear();
    for (;;) {
        // a chunk-size line
        size_t eol;
        for (;;) {
            std::string_view have(buf_.data() + pos_ + at, len_ - pos_ - at);
            eol = have.find("\r\n");
            if (eol != std::string_view::npos) break;
            if (have.size() > 1024 || !fill(at + have.size() + 1)) return false;
        }
        size_t n = std::strtoull(buf_.data() + pos_ + at, nullptr, 16);
        at += eol + 2;
        if (n == 0) {  // last chunk; trailers end with an empty line
            for (;;) {
                std::string_view have(buf_.data() + pos_ + at, len_ - pos_ - at);
                size_t e = have.find("\r\n");
                if (e == std::string_view::npos) {
                    if (!fill(at + have.size() + 1)) return false;
                    continue;
                }
                at += e + 2;
                if (e == 0) break;
            }
            pos_ += at;
            return true;
        }
        if (chunked_.size() + n > cfg.max_body) return false;
        if (!fill(at + n + 2)) return false;
        chunked_.insert(chunked_.end(), buf_.data() + pos_ + at, buf_.data() + pos_ + at + n);
        at += n + 2;
    }
}

// gzip or deflate (zlib or raw) into inflated_; false when corrupt or over --max-body-bytes.
int inflate_into(std::string_view in, std::vector<char>& out, bool gzip) {
    z_stream z{};
    if (inflateInit2(&z, gzip ? 15 + 16 : 15 + 32) != Z_OK) return 500;
    out.resize(std::max<size_t>(in.size() * 4, 1 << 16));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    size_t have = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (out.size() - have < (1 << 16) + simdjson::SIMDJSON_PADDING) out.resize(out.size() * 2);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
        z.avail_out = static_cast<uInt>(out.size() - have - simdjson::SIMDJSON_PADDING);
        rc = inflate(&z, Z_NO_FLUSH);
        have = out.size() - simdjson::SIMDJSON_PADDING - z.avail_out;
        if (have > cfg.max_body) {
            inflateEnd(&z);
            return 413;
        }
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return 400;
        }
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            inflateEnd(&z);
            return 400;  // truncated
        }
    }
    inflateEnd(&z);
    out.resize(have + simdjson::SIMDJSON_PADDING);
    return static_cast<int>(have) >= 0 ? 200 : 400;
}

void connection::serve() {
    for (;;) {
        // headers
        size_t hend;
        for (;;) {
            std::string_view have(buf_.data() + pos_, len_ - pos_);
            hend = have.find("\r\n\r\n");
            if (hend != std::string_view::npos) break;
            if (have.size() > (64 << 10) || !fill(have.size() + 1)) return;
        }
        std::string_view head(buf_.data() + pos_, hend);
        request& rq = rq_;
        size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
        if (sp1 == std::string_view::npos || sp2 == sp1) return;
        rq.line.assign(line);
        rq.method.assign(line.substr(0, sp1));
        std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        rq.close = line.substr(sp2 + 1) == "HTTP/1.0";
        size_t q = target.find('?');
        rq.path.assign(target.substr(0, q));
        rq.query.assign(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1));
        rq.content_type.clear();
        rq.content_encoding.clear();
        rq.content_length = 0;
        rq.chunked = rq.expect_continue = false;
        while (eol != std::string_view::npos) {
            size_t next = head.find("\r\n", eol + 2);
            std::string_view h = head.substr(eol + 2, next == std::string_view::npos ? std::string_view::npos : next - eol - 2);
            eol = next;
            size_t colon = h.find(':');
            if (colon == std::string_view::npos) continue;
            std::string_view name = h.substr(0, colon), value = h.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (iequals(name, "content-length")) rq.content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
            else if (iequals(name, "transfer-encoding")) rq.chunked = icontains(value, "chunked");
            else if (iequals(name, "content-encoding")) rq.content_encoding.assign(value);
            else if (iequals(name, "content-type")) rq.content_type.assign(value);
            else if (iequals(name, "expect")) rq.expect_continue = icontains(value, "100-continue");
            else if (iequals(name, "connection")) rq.close = rq.close || iequals(value, "close");
        }
        if (cfg.verbose) std::fprintf(stderr, "es_bench_server: %s\n", rq.line.c_str());
        size_t body_at = hend + 4;
        if (!rq.chunked && rq.content_length > cfg.max_body) {
            respond(413, {}, false, true);  // like Netty: no body, and the connection is closed
            return;
        }
        if (rq.expect_continue && !send_all("HTTP/1.1 100 Continue\r\n\r\n", {})) return;
        std::string_view body;
        if (rq.chunked) {
            if (!read_chunked(body_at)) {
                respond(413, {}, false, true);
                return;
            }
            chunked_.resize(chunked_.size() + simdjson::SIMDJSON_PADDING);
            body = std::string_view(chunked_.data(), chunked_.size() - simdjson::SIMDJSON_PADDING);
        } else {
            if (!fill(body_at + rq.content_length)) return;
            body = std::string_view(buf_.data() + pos_ + body_at, rq.content_length);
            pos_ += body_at + rq.content_length;
        }
        // The padding after `body` must be readable: buf_, chunked_ and inflated_ keep
        // SIMDJSON_PADDING spare bytes.
        {
            std::lock_guard lk(db.io_m);
            ++db.st.requests;
        }
        if (!rq.content_encoding.empty() && !iequals(rq.content_encoding, "identity")) {
            bool gz = icontains(rq.content_encoding, "gzip");
            int rc = gz || icontains(rq.content_encoding, "deflate") ? inflate_into(body, inflated_, gz) : 415;
            if (rc == 413) {
                respond(413, {}, false, true);
                return;
            }
            if (rc == 415) {
                if (!respond(415, R"({"error":"unsupported Content-Encoding","status":415})")) return;
                continue;
            }
            if (rc != 200) {
                if (!respond(400, R"({"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"corrupt compressed body"}],"type":"illegal_argument_exception","reason":"corrupt compressed body"},"status":400})"))
                    return;
                continue;
            }
            body = std::string_view(inflated_.data(), inflated_.size() - simdjson::SIMDJSON_PADDING);
            std::lock_guard lk(db.io_m);
            ++db.st.gzip_requests;
        }
        {
            std::lock_guard lk(db.io_m);
            db.st.bytes_in_decoded += body.size();
        }
        if (!route(rq, body) || rq.close) return;
        if (pos_ == len_) pos_ = len_ = 0;
    }
}

bool connection::route(const request& rq, std::string_view body) {
    std::string_view path = rq.path;
    std::string_view content_type = rq.content_type;
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    std::string_view first, rest;
    {
        std::string_view p = path.substr(1);
        size_t slash = p.find('/');
        first = p.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : p.substr(slash + 1);
    }
    const std::string_view m = rq.method;
    bool head = m == "HEAD";
    auto ack = [&] { return respond(200, R"({"acknowledged":true})", head); };
    if (path == "/" && (m == "GET" || head))
        return respond(200,
                       R"({"name":"es-bench","cluster_name":"sds-test","cluster_uuid":"es-bench-server-uuid","version":{"number":"8.13.0","build_flavor":"default","build_type":"tar","lucene_version":"9.10.0","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"})",
                       head);
    std::string_view index = first.starts_with('_') ? std::string_view{} : first;
    std::string_view endpoint = index.empty() ? first : rest;
    if (endpoint == "_bulk" && (m == "POST" || m == "PUT")) {
        if (!content_type.empty() && !icontains(content_type, "json"))
            return respond(406, R"({"error":"Content-Type header is not supported","status":406})");
        int status = bulk_.handle(db, body, index, out_);
        // ?refresh / ?refresh=true / ?refresh=wait_for: visible to _count once answered.
        std::string_view query = rq.query;
        size_t r = query.find("refresh");
        if (status == 200 && r != std::string_view::npos && (r == 0 || query[r - 1] == '&') &&
            !query.substr(r).starts_with("refresh=false")) {
            std::lock_guard lk(db.m);
            db.refresh(index);  // (all indices when the URL names none)
        }
        return respond(status, out_);
    }
    if (endpoint == "_refresh" && (m == "POST" || m == "GET")) {
        std::lock_guard lk(db.m);
        db.refresh(index);
        out_ = R"({"_shards":{"total":2,"successful":1,"failed":0}})";
    } else if (endpoint == "_count" && (m == "GET" || m == "POST")) {
        // No query DSL here: only a match_all (or no body) is counted.
        std::string_view b = body;
        if (!b.empty() && b.find("match_all") == std::string_view::npos)
            return respond(400, R"({"error":{"root_cause":[{"type":"parsing_exception","reason":"es_bench_server counts match_all only"}],"type":"parsing_exception","reason":"es_bench_server counts match_all only"},"status":400})");
        bool missing = false;
        uint64_t n;
        {
            std::lock_guard lk(db.m);
            n = db.count(index.empty() ? "_all" : index, missing);
        }
        if (missing)
            return respond(404, R"({"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index"}],"type":"index_not_found_exception","reason":"no such index"},"status":404})");
        out_ = R"({"count":)" + std::to_string(n) + R"(,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}})";
    } else if (path == "/_sds_reset" && m == "POST") {
        {
            std::scoped_lock lk(db.m, db.io_m);
            db.indices.clear();
            db.st = stats{};
            db.next_auto_id = 0;
        }
        return ack();
    } else if (path == "/_sds_stats/_reset" && m == "POST") {
        {
            std::lock_guard lk(db.io_m);
            db.st = stats{};
        }
        return ack();
    } else if (path == "/_sds_stats" && m == "GET") {
        std::scoped_lock lk(db.m, db.io_m);
        uint64_t docs = 0;
        for (auto& [name, ix] : db.indices) docs += ix.live;
        const stats& s = db.st;
        out_ = "{\"requests\":" + std::to_string(s.requests) + ",\"bulk_requests\":" + std::to_string(s.bulk_requests) +
               ",\"bulk_items\":" + std::to_string(s.bulk_items) + ",\"bulk_errors\":" + std::to_string(s.bulk_errors) +
               ",\"bytes_in\":" + std::to_string(s.bytes_in) + ",\"bytes_in_decoded\":" + std::to_string(s.bytes_in_decoded) +
               ",\"bytes_out\":" + std::to_string(s.bytes_out) + ",\"gzip_requests\":" + std::to_string(s.gzip_requests) +
               ",\"connections\":" + std::to_string(s.connections) + ",\"bulk_seconds\":" + std::to_string(s.bulk_seconds) +
               ",\"docs\":" + std::to_string(docs) + ",\"indices\":" + std::to_string(db.indices.size()) +
               ",\"cpu_seconds\":" + std::to_string(cpu_seconds()) + "}";
    } else if (path == "/_cluster/health" && m == "GET") {
        out_ = R"({"cluster_name":"sds-test","status":"green","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1})";
    } else if (!index.empty() && rest.empty() && (m == "PUT" || m == "HEAD" || m == "GET" || m == "DELETE")) {
        int status = 200;
        {
            std::lock_guard lk(db.m);
            auto it = db.indices.find(index);
            if (m == "PUT") {
                if (it != db.indices.end()) {
                    status = 400;
                    out_ = R"({"error":{"root_cause":[{"type":"resource_already_exists_exception","reason":"index already exists"}],"type":"resource_already_exists_exception","reason":"index already exists"},"status":400})";
                } else {
                    db.indices.emplace(std::string(index), index_state{});
                    out_ = R"({"acknowledged":true,"shards_acknowledged":true,"index":)";
                    append_json_string(out_, index);
                    out_ += '}';
                }
            } else if (it == db.indices.end()) {
                status = 404;
                out_ = R"({"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index"}],"type":"index_not_found_exception","reason":"no such index"},"status":404})";
            } else if (m == "DELETE") {
                db.indices.erase(it);
                out_ = R"({"acknowledged":true})";
            } else {
                out_.clear();
                out_ += '{';
                append_json_string(out_, index);
                out_ += R"(:{"aliases":{},"mappings":{},"settings":{"index":{"number_of_shards":"1","number_of_replicas":"1"}}}})";
            }
        }
        return respond(status, out_, head);
    } else {
        out_ = "{\"error\":\"no handler found for uri [" + std::string(rq.path) + "] and method [" + std::string(m) +
               "]\",\"status\":400}";
        return respond(400, out_, head);
    }
    return respond(200, out_, head);
}

int usage() {
    std::fputs("usage: es_bench_server [--host H] [--port N] [--port-file F] [--max-body-bytes N] [-v]\n", stderr);
    return 2;
}

}  // namespace
}  // namespace es_bench

int main(int argc, char** argv) {
    using namespace es_bench;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (a == "-v") cfg.verbose = true;
        else if (a == "--host" && (v = value())) cfg.host = v;
        else if (a == "--port" && (v = value())) cfg.port = std::atoi(v);
        else if (a == "--port-file" && (v = value())) cfg.port_file = v;
        else if (a == "--max-body-bytes" && (v = value())) cfg.max_body = std::strtoull(v, nullptr, 10);
        else return usage();
    }
    std::signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(cfg.port));
    if (inet_pton(AF_INET, cfg.host.c_str(), &addr.sin_addr) != 1) return usage();
    if (bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(ls, 128) != 0) {
        std::fprintf(stderr, "es_bench_server: cannot listen on %s:%d (%s)\n", cfg.host.c_str(), cfg.port, std::strerror(errno));
        return 3;
    }
    socklen_t alen = sizeof addr;
    getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &alen);
    int port = ntohs(addr.sin_port);
    if (!cfg.port_file.empty()) {
        std::string tmp = cfg.port_file + ".tmp";
        FILE* f = std::fopen(tmp.c_str(), "w");
        if (f == nullptr || std::fprintf(f, "%d\n", port) < 0 || std::fclose(f) != 0 ||
            std::rename(tmp.c_str(), cfg.port_file.c_str()) != 0) {
            std::fprintf(stderr, "es_bench_server: cannot write %s\n", cfg.port_file.c_str());
            return 3;
        }
    } else if (cfg.port == 0) {
        std::printf("%d\n", port);
        std::fflush(stdout);
    }
    for (;;) {
        int fd = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            std::fprintf(stderr, "es_bench_server: accept: %s\n", std::strerror(errno));
            return 3;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        {
            std::lock_guard lk(db.io_m);
            ++db.st.connections;
        }
        std::thread([fd] { connection(fd).serve(); }).detach();
    }
}
