#include "sds/scan/connect.hpp"

#include <errno.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#include "sds/core/signals.hpp"
#include "sds/scan/ports.hpp"

namespace sds::scan {

const char* to_string(port_state s) noexcept {
    switch (s) {
        case port_state::open: return "open";
        case port_state::closed: return "closed";
        default: return "filtered";
    }
}

bool is_http_port(uint16_t port) noexcept {
    switch (port) {
        case 80: case 81: case 591: case 3000: case 5000: case 8000: case 8008: case 8080: case 8081:
        case 8088: case 8888: case 9000: case 9090: case 9200:
            return true;
        default:
            return false;
    }
}

namespace {

using clock = std::chrono::steady_clock;

socklen_t to_sockaddr(const ip::address& a, uint16_t port, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (a.v4) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        std::memcpy(&s->sin_addr, &a.bytes[12], 4);
        return sizeof(sockaddr_in);
    }
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

void close_reset(int fd) {
    linger l{1, 0};  // RST instead of FIN: no TIME_WAIT left behind on either side
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

// A connect() to a port in our own ephemeral range can meet itself (TCP simultaneous open);
// that is not a listener.
bool self_connected(int fd) {
    sockaddr_storage a{}, b{};
    socklen_t la = sizeof a, lb = sizeof b;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &la) != 0) return false;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&b), &lb) != 0) return false;
    return la == lb && std::memcmp(&a, &b, la) == 0;
}

enum class phase : uint8_t { idle, connecting, banner };

struct slot {
    int fd = -1;
    phase ph = phase::idle;
    uint32_t gen = 0;
    int attempts = 0;
    probe p;
    clock::time_point started;
    double rtt_ms = 0;
};

struct pending {
    probe p;
    int attempts = 0;
};

struct deadline {
    uint32_t idx, gen;
    clock::time_point at;
};

class scanner {
public:
    scanner(const connect_options& o, const std::function<bool(probe&)>& next,
            const std::function<void(probe_result&&)>& done)
        : o_(o), next_(next), done_(done), limit_(std::max(1u, o.concurrency)) {
        slots_.resize(limit_);
        for (uint32_t i = limit_; i-- > 0;) free_.push_back(i);
        tokens_ = burst();
        last_refill_ = clock::now();
    }
    ~scanner() {
        for (auto& s : slots_)
            if (s.fd >= 0) close_reset(s.fd);
        if (ep_ >= 0) ::close(ep_);
    }

    status run() {
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) return make_error(exit_code::runtime, fmt::format("cannot scan: epoll_create1 ({})", std::strerror(errno)));
        std::vector<epoll_event> events(1024);
        while (!interrupted()) {
            if (auto s = launch_more(); !s) return s;
            if (active_ == 0 && exhausted_ && queue_.empty()) break;
            int wait = wait_ms();
            int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wait);
            if (n < 0) {
                if (errno == EINTR) continue;
                return make_error(exit_code::runtime, fmt::format("cannot scan: epoll_wait ({})", std::strerror(errno)));
            }
            for (int k = 0; k < n; ++k) on_event(events[k]);
            expire();
        }
        return {};
    }

private:
    double burst() const { return o_.rate > 0 ? std::max(1.0, o_.rate / 50.0) : 1e18; }

    void refill() {
        if (o_.rate <= 0) return;
        auto now = clock::now();
        double dt = std::chrono::duration<double>(now - last_refill_).count();
        last_refill_ = now;
        tokens_ = std::min(burst(), tokens_ + dt * o_.rate);
    }

    status launch_more() {
        refill();
        while (active_ < limit_ && !free_.empty()) {
            if (o_.rate > 0 && tokens_ < 1.0) break;
            if (backoff_until_ > clock::now()) break;
            pending pd;
            if (!queue_.empty()) {
                pd = queue_.front();
                queue_.pop_front();
            } else if (!exhausted_ && next_(pd.p)) {
                pd.attempts = 0;
            } else {
                exhausted_ = true;
                break;
            }
            if (o_.rate > 0) tokens_ -= 1.0;
            if (auto s = start(pd); !s) return s;
        }
        return {};
    }

    int wait_ms() {
        auto now = clock::now();
        auto until = now + std::chrono::milliseconds(200);
        if (!connect_q_.empty()) until = std::min(until, connect_q_.front().at);
        if (!banner_q_.empty()) until = std::min(until, banner_q_.front().at);
        if (!queue_.empty() || !exhausted_) {
            if (backoff_until_ > now) until = std::min(until, backoff_until_);
            else if (o_.rate > 0 && tokens_ < 1.0)
                until = std::min(until, now + std::chrono::microseconds(static_cast<int64_t>((1.0 - tokens_) / o_.rate * 1e6) + 1));
            else if (active_ < limit_ && !free_.empty())
                until = now;  // more to launch (or nothing left: the loop ends)
        }
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        if (ms <= 0 && until > now) ms = 1;
        return static_cast<int>(std::max<int64_t>(0, ms));
    }

    status start(const pending& pd) {
        sockaddr_storage ss;
        socklen_t len = to_sockaddr(pd.p.addr, pd.p.port, ss);
        int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: work with what we have.
                queue_.push_front(pd);
                if (active_ == 0)
                    return make_error(exit_code::runtime, fmt::format("cannot scan: socket ({})", std::strerror(errno)));
                limit_ = active_;
                return {};
            }
            return make_error(exit_code::runtime, fmt::format("cannot scan: socket ({})", std::strerror(errno)));
        }
        auto t0 = clock::now();
        int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
        int err = rc == 0 ? 0 : errno;
        if (err == EAGAIN || err == EADDRNOTAVAIL) {
            // No local port free right now (many connections in TIME_WAIT): back off briefly.
            ::close(fd);
            queue_.push_front(pd);
            backoff_until_ = clock::now() + std::chrono::milliseconds(20);
            return {};
        }
        uint32_t idx = free_.back();
        free_.pop_back();
        ++active_;
        slot& s = slots_[idx];
        s.fd = fd;
        s.p = pd.p;
        s.attempts = pd.attempts + 1;
        s.started = t0;
        ++s.gen;
        if (err == 0) {
            s.rtt_ms = ms_since(t0);
            connected(idx);
        } else if (err == EINPROGRESS) {
            s.ph = phase::connecting;
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = (uint64_t{s.gen} << 32) | idx;
            if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0)
                return make_error(exit_code::runtime, fmt::format("cannot scan: epoll_ctl ({})", std::strerror(errno)));
            connect_q_.push_back({idx, s.gen, t0 + std::chrono::milliseconds(o_.timeout_ms)});
        } else {
            s.rtt_ms = ms_since(t0);
            failed(idx, err);
        }
        return {};
    }

    static double ms_since(clock::time_point t0) {
        return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    }

    void on_event(const epoll_event& ev) {
        uint32_t idx = static_cast<uint32_t>(ev.data.u64 & 0xffffffffu);
        uint32_t gen = static_cast<uint32_t>(ev.data.u64 >> 32);
        if (idx >= slots_.size()) return;
        slot& s = slots_[idx];
        if (s.gen != gen || s.fd < 0) return;
        if (s.ph == phase::connecting) {
            int err = 0;
            socklen_t l = sizeof err;
            if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
            s.rtt_ms = ms_since(s.started);
            if (err == 0) {
                connected(idx);
            } else {
                failed(idx, err);
            }
        } else if (s.ph == phase::banner) {
            read_banner(idx);
        }
    }

    void connected(uint32_t idx) {
        slot& s = slots_[idx];
        if (self_connected(s.fd)) {
            failed(idx, ECONNREFUSED);
            return;
        }
        if (o_.banner_timeout_ms <= 0 || (!o_.banner_on_tls_ports && is_tls_port(s.p.port))) {
            finish(idx, port_state::open, 0);
            return;
        }
        s.ph = phase::banner;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = (uint64_t{s.gen} << 32) | idx;
        int op = EPOLL_CTL_MOD;
        if (::epoll_ctl(ep_, op, s.fd, &ev) != 0 && (errno != ENOENT || ::epoll_ctl(ep_, EPOLL_CTL_ADD, s.fd, &ev) != 0)) {
            finish(idx, port_state::open, 0);
            return;
        }
        if (is_http_port(s.p.port)) {
            static constexpr std::string_view req = "HEAD / HTTP/1.0\r\n\r\n";
            (void)!::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        banner_q_.push_back({idx, s.gen, clock::now() + std::chrono::milliseconds(o_.banner_timeout_ms)});
    }

    void read_banner(uint32_t idx) {
        slot& s = slots_[idx];
        std::string buf(o_.banner_bytes, '\0');
        ssize_t n = ::recv(s.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
        finish(idx, port_state::open, 0, std::move(buf));
    }

    void failed(uint32_t idx, int err) {
        slot& s = slots_[idx];
        if (err == ECONNREFUSED) {
            finish(idx, port_state::closed, err);
        } else if ((err == ETIMEDOUT) && s.attempts <= o_.retries) {
            retry(idx);
        } else {
            finish(idx, port_state::filtered, err);
        }
    }

    void retry(uint32_t idx) {
        slot& s = slots_[idx];
        queue_.push_back({s.p, s.attempts});
        release(idx);
    }

    void release(uint32_t idx) {
        slot& s = slots_[idx];
        if (s.fd >= 0) {
            ::epoll_ctl(ep_, EPOLL_CTL_DEL, s.fd, nullptr);
            if (s.ph == phase::banner || s.ph == phase::idle) close_reset(s.fd);
            else ::close(s.fd);
        }
        s.fd = -1;
        s.ph = phase::idle;
        ++s.gen;
        free_.push_back(idx);
        --active_;
    }

    void finish(uint32_t idx, port_state st, int err, std::string banner = {}) {
        slot& s = slots_[idx];
        probe_result r;
        r.p = s.p;
        r.state = st;
        r.error = err;
        r.rtt_ms = s.rtt_ms;
        r.attempts = s.attempts;
        r.banner = std::move(banner);
        if (st == port_state::open) s.ph = phase::banner;  // reset on close
        release(idx);
        done_(std::move(r));
    }

    void expire() {
        auto now = clock::now();
        while (!connect_q_.empty() && connect_q_.front().at <= now) {
            auto d = connect_q_.front();
            connect_q_.pop_front();
            slot& s = slots_[d.idx];
            if (s.gen != d.gen || s.ph != phase::connecting) continue;
            s.rtt_ms = ms_since(s.started);
            failed(d.idx, ETIMEDOUT);
        }
        while (!banner_q_.empty() && banner_q_.front().at <= now) {
            auto d = banner_q_.front();
            banner_q_.pop_front();
            slot& s = slots_[d.idx];
            if (s.gen != d.gen || s.ph != phase::banner) continue;
            finish(d.idx, port_state::open, 0);
        }
    }

    const connect_options& o_;
    const std::function<bool(probe&)>& next_;
    const std::function<void(probe_result&&)>& done_;
    unsigned limit_;
    unsigned active_ = 0;
    int ep_ = -1;
    std::vector<slot> slots_;
    std::vector<uint32_t> free_;
    std::deque<pending> queue_;
    std::deque<deadline> connect_q_, banner_q_;
    double tokens_ = 0;
    clock::time_point last_refill_;
    clock::time_point backoff_until_{};
    bool exhausted_ = false;
};

}  // namespace

status connect_scan(const connect_options& o, const std::function<bool(probe&)>& next,
                    const std::function<void(probe_result&&)>& done) {
    scanner s(o, next, done);
    return s.run();
}

}  // namespace sds::scan
