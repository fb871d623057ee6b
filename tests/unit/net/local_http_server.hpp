#pragma once
// A tiny HTTP/1.1 responder on 127.0.0.1 for tests: a thread with a listening socket, one
// connection at a time, keep-alive, Content-Length bodies. The handler decides each answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sds::test {

struct seen_request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    std::string header(const std::string& name) const {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return {};
    }
};

struct canned_response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    size_t chunk_size = 0;      // >0: write the body in pieces of this size, flushing each
    int delay_ms_per_chunk = 0;
    bool close = false;         // close the connection after answering
};

class local_http_server {
public:
    using handler = std::function<canned_response(const seen_request&)>;

    explicit local_http_server(handler h) : handler_(std::move(h)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 16);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~local_http_server() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    int port() const { return port_; }
    std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    std::vector<seen_request> requests() {
        std::lock_guard l(mu_);
        return seen_;
    }
    int connections() const { return connections_; }

private:
    bool wait_readable(int fd) {
        pollfd p{fd, POLLIN, 0};
        while (!stop_) {
            int r = ::poll(&p, 1, 50);
            if (r > 0) return true;
            if (r < 0) return false;
        }
        return false;
    }

    void loop() {
        while (!stop_) {
            if (!wait_readable(fd_)) continue;
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            ++connections_;
            serve(c);
            ::close(c);
        }
    }

    void serve(int c) {
        std::string buf;
        while (!stop_) {
            size_t end;
            while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
                if (!read_more(c, buf)) return;
            }
            seen_request req;
            std::string head = buf.substr(0, end);
            buf.erase(0, end + 4);
            size_t line_end = head.find("\r\n");
            std::string first = head.substr(0, line_end);
            auto sp1 = first.find(' '), sp2 = first.rfind(' ');
            req.method = first.substr(0, sp1);
            req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
            size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
            size_t content_length = 0;
            while (pos < head.size()) {
                size_t e = head.find("\r\n", pos);
                if (e == std::string::npos) e = head.size();
                std::string line = head.substr(pos, e - pos);
                pos = e + 2;
                auto colon = line.find(':');
                std::string k = line.substr(0, colon), v = line.substr(colon + 1);
                for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                while (!v.empty() && v.front() == ' ') v.erase(0, 1);
                if (k == "content-length") content_length = std::stoul(v);
                req.headers.emplace_back(k, v);
            }
            while (buf.size() < content_length)
                if (!read_more(c, buf)) return;
            req.body = buf.substr(0, content_length);
            buf.erase(0, content_length);
            {
                std::lock_guard l(mu_);
                seen_.push_back(req);
            }
            canned_response r = handler_(req);
            std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
            for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
            out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
            if (r.close) out += "Connection: close\r\n";
            out += "\r\n";
            if (!write_all(c, out)) return;
            if (req.method != "HEAD") {
                size_t step = r.chunk_size ? r.chunk_size : std::max<size_t>(r.body.size(), 1);
                for (size_t at = 0; at < r.body.size(); at += step) {
                    if (!write_all(c, r.body.substr(at, step))) return;
                    if (r.delay_ms_per_chunk) std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms_per_chunk));
                }
            }
            if (r.close) return;
        }
    }

    bool read_more(int c, std::string& buf) {
        if (!wait_readable(c)) return false;
        char tmp[16384];
        ssize_t n = ::read(c, tmp, sizeof tmp);
        if (n <= 0) return false;
        buf.append(tmp, static_cast<size_t>(n));
        return true;
    }

    static bool write_all(int c, const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<size_t>(n);
        }
        return true;
    }

    handler handler_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
    std::mutex mu_;
    std::vector<seen_request> seen_;
};

}  // namespace sds::test
