#include "sds/scan/connect.hpp"

#include <errno.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sds/core/signals.hpp"
#include "sds/scan/connect_detail.hpp"
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

using namespace detail;

enum class phase : uint8_t { idle, connecting, banner };

struct slot {
    int fd = -1;
    phase ph = phase::idle;
    bool registered = false;  // fd is in the epoll set (under the key gen/index)
    bool v4 = true;           // the socket's family
    const source* src = nullptr;  // the address the socket is bound to (null: not bound)
    std::string local;            // and its endpoint_key() with the port
    uint32_t gen = 0;         // bumped per socket: events of a closed socket are stale
    uint32_t attempt_id = 0;  // bumped per connect(): deadlines of an earlier attempt are stale
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
    uint32_t idx, attempt_id;
    clock::time_point at;
};

// One event loop: its own epoll instance, its share of --concurrency, probes pulled from the
// shared source a batch at a time.
class scanner {
public:
    scanner(const connect_options& o, shared& sh, unsigned limit, const port_pool& ports)
        : o_(o), sh_(sh), limit_(std::max(1u, limit)), ports_(ports) {
        slots_.resize(limit_);
        for (uint32_t i = limit_; i-- > 0;) free_.push_back(i);
        batch_want_ = std::clamp<size_t>(limit_ / 8, 1, 64);
        std::random_device rd;
        next_port_ = static_cast<uint16_t>(ports_.lo + rd() % (unsigned(ports_.hi) - ports_.lo + 1));
    }
    ~scanner() {
        for (auto& s : slots_)
            if (s.fd >= 0) ::close(s.fd);
        if (ep_ >= 0) ::close(ep_);
    }

    status run() {
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) return make_error(exit_code::runtime, fmt::format("cannot scan: epoll_create1 ({})", std::strerror(errno)));
        std::vector<epoll_event> events(std::clamp<size_t>(limit_, 64, 4096));
        while (!interrupted() && !sh_.stop.load(std::memory_order_relaxed)) {
            if (auto s = launch_more(); !s) return s;
            if (active_ == 0 && !have_more()) break;
            int wait = wait_ms();
            int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wait);
            if (n < 0) {
                if (errno == EINTR) continue;
                return make_error(exit_code::runtime, fmt::format("cannot scan: epoll_wait ({})", std::strerror(errno)));
            }
            for (int k = 0; k < n; ++k)
                if (auto s = on_event(events[k]); !s) return s;
            expire();
        }
        return {};
    }

private:
    bool have_more() const { return !queue_.empty() || batch_i_ < batch_.size() || !sh_.dry(); }

    // The next probe to start now, if the backoff and the rate budget allow one.
    bool claim(pending& pd) {
        if (backoff_until_ > clock::time_point{} && backoff_until_ > clock::now()) return false;
        if (!queue_.empty()) {
            pd = queue_.front();
            queue_.pop_front();
        } else {
            if (batch_i_ == batch_.size()) {
                batch_.clear();
                batch_i_ = 0;
                if (!sh_.pull(batch_, batch_want_)) return false;
            }
            pd.p = batch_[batch_i_++];
            pd.attempts = 0;
        }
        if (!sh_.take_token(token_wait_)) {
            queue_.push_front(pd);
            token_short_ = true;
            return false;
        }
        token_short_ = false;
        return true;
    }

    status launch_more() {
        while (active_ < limit_ && !free_.empty()) {
            pending pd;
            if (!claim(pd)) break;
            if (auto s = start(pd); !s) return s;
        }
        return {};
    }

    int wait_ms() {
        auto now = clock::now();
        auto until = now + std::chrono::milliseconds(200);
        if (!connect_q_.empty()) until = std::min(until, connect_q_.front().at);
        if (!banner_q_.empty()) until = std::min(until, banner_q_.front().at);
        if (have_more()) {
            if (backoff_until_ > now) until = std::min(until, backoff_until_);
            else if (token_short_) until = std::min(until, now + token_wait_);
            else if (active_ < limit_ && !free_.empty())
                until = now;  // more to launch
        }
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        if (ms <= 0 && until > now) ms = 1;
        return static_cast<int>(std::max<int64_t>(0, ms));
    }

    // A new socket in a free slot, connecting to pd.
    status start(const pending& pd) {
        int family = pd.p.addr.v4 ? AF_INET : AF_INET6;
        int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: work with what we have.
                queue_.push_front(pd);
                sh_.give_back_token();
                if (active_ == 0)
                    return make_error(exit_code::runtime, fmt::format("cannot scan: socket ({})", std::strerror(errno)));
                limit_ = active_;
                return {};
            }
            return make_error(exit_code::runtime, fmt::format("cannot scan: socket ({})", std::strerror(errno)));
        }
        uint32_t idx = free_.back();
        free_.pop_back();
        ++active_;
        slot& s = slots_[idx];
        s.fd = fd;
        s.v4 = pd.p.addr.v4;
        s.src = bind_local(fd, pd.p.addr, s.local);
        s.registered = false;
        ++s.gen;
        return attempt(idx, pd);
    }

    // Where connections to `a` leave from (cached per destination address).
    const source* source_for(const ip::address& a) {
        if (last_src_ && last_dst_ == a) return last_src_;
        auto [it, fresh] = sources_.try_emplace({a.bytes, a.v4});
        source& src = it->second;
        if (fresh) {
            sockaddr_storage ss;
            socklen_t len = to_sockaddr(a, 9, ss);
            int u = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (u >= 0) {
                socklen_t l = sizeof src.ss;
                if (::connect(u, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
                    ::getsockname(u, reinterpret_cast<sockaddr*>(&src.ss), &l) == 0)
                    src.len = l;
                ::close(u);
            }
        }
        last_dst_ = a;
        last_src_ = &src;
        return &src;
    }

    // Binds a new socket to the source address of `dst` and a local port of our choosing, so
    // that the port stays with the socket from one connect() to the next (connect() would look
    // for a free port each time, and give it back after each refusal). Null when it could not:
    // connect() then chooses.
    const source* bind_local(int fd, const ip::address& dst, std::string& key) {
        const source* src = source_for(dst);
        if (src->len == 0) return nullptr;
        sockaddr_storage ss = src->ss;
        unsigned span = unsigned(ports_.hi) - ports_.lo + 1;
        for (int tries = 0; tries < 16; ++tries) {
            uint16_t port = next_port_;
            next_port_ = next_port_ == ports_.hi ? ports_.lo : static_cast<uint16_t>(next_port_ + 1);
            if (!ports_.reserved.empty() && ports_.reserved[port]) continue;
            if (ss.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
            else reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
            if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), src->len) == 0) {
                key = endpoint_key(ss);
                sh_.hold(key);
                return src;
            }
            if (errno != EADDRINUSE) return nullptr;
            if (span <= 1) break;
        }
        return nullptr;
    }

    // connect() of slot idx's socket (new, or reset after a refusal) to pd's address.
    status attempt(uint32_t idx, const pending& pd) {
        slot& s = slots_[idx];
        s.p = pd.p;
        s.attempts = pd.attempts + 1;
        ++s.attempt_id;
        sockaddr_storage ss;
        socklen_t len = to_sockaddr(pd.p.addr, pd.p.port, ss);
        auto t0 = clock::now();
        s.started = t0;
        int rc = ::connect(s.fd, reinterpret_cast<sockaddr*>(&ss), len);
        int err = rc == 0 ? 0 : errno;
        if (err == EAGAIN || err == EADDRNOTAVAIL) {
            // No local port free right now (many connections in TIME_WAIT): back off briefly.
            queue_.push_front({pd.p, pd.attempts});
            backoff_until_ = clock::now() + std::chrono::milliseconds(20);
            release(idx, false);
            return {};
        }
        if (err == 0) {
            s.rtt_ms = ms_since(t0);
            connected(idx);
        } else if (err == EINPROGRESS) {
            s.ph = phase::connecting;
            if (!s.registered) {
                epoll_event ev{};
                ev.events = EPOLLOUT;
                ev.data.u64 = (uint64_t{s.gen} << 32) | idx;
                if (::epoll_ctl(ep_, EPOLL_CTL_ADD, s.fd, &ev) != 0)
                    return make_error(exit_code::runtime, fmt::format("cannot scan: epoll_ctl ({})", std::strerror(errno)));
                s.registered = true;
            }
            connect_q_.push_back({idx, s.attempt_id, t0 + std::chrono::milliseconds(o_.timeout_ms)});
        } else {
            s.rtt_ms = ms_since(t0);
            failed(idx, err);
        }
        return {};
    }

    static double ms_since(clock::time_point t0) {
        return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    }

    status on_event(const epoll_event& ev) {
        uint32_t idx = static_cast<uint32_t>(ev.data.u64 & 0xffffffffu);
        uint32_t gen = static_cast<uint32_t>(ev.data.u64 >> 32);
        if (idx >= slots_.size()) return {};
        slot& s = slots_[idx];
        if (s.gen != gen || s.fd < 0) return {};
        if (s.ph == phase::banner) {
            read_banner(idx);
            return {};
        }
        if (s.ph != phase::connecting) return {};
        s.rtt_ms = ms_since(s.started);
        if (!(ev.events & (EPOLLERR | EPOLLHUP))) {
            connected(idx);  // writable, no error: the handshake completed
            return {};
        }
        // The attempt failed. When the socket holds the error (EPOLLERR) and another probe can
        // start now on a socket of the same family and source, connect() this one to it: the
        // first call returns the failed attempt's error and resets the socket, the second
        // starts the new attempt.
        pending nx;
        if ((ev.events & EPOLLERR) && claim(nx)) {
            if (nx.p.addr.v4 == s.v4 && (s.src == nullptr || s.src == source_for(nx.p.addr))) {
                sockaddr_storage ss;
                socklen_t len = to_sockaddr(nx.p.addr, nx.p.port, ss);
                int rc = ::connect(s.fd, reinterpret_cast<sockaddr*>(&ss), len);
                int err = rc == 0 ? 0 : errno;
                if (rc != 0 && err != EALREADY && err != EINPROGRESS && err != EISCONN) {
                    settle_failure(s, err);
                    return attempt(idx, nx);
                }
            }
            queue_.push_front(nx);
            sh_.give_back_token();
        }
        int err = 0;
        socklen_t l = sizeof err;
        if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
        if (err == 0) connected(idx);
        else failed(idx, err);
        return {};
    }

    // A connect() to a port in our own ephemeral range can meet itself, or another of our
    // sockets connecting back at the same moment (TCP simultaneous open): that is not a
    // listener. Only asked of connections that succeeded.
    bool own_peer(int fd) {
        sockaddr_storage a{}, b{};
        socklen_t la = sizeof a, lb = sizeof b;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &la) != 0) return false;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&b), &lb) != 0) return false;
        if (!same_address(a, b)) return false;
        return port_of(a) == port_of(b) || sh_.held(endpoint_key(b));
    }

    void connected(uint32_t idx) {
        slot& s = slots_[idx];
        if (own_peer(s.fd)) {
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
        int op = s.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (::epoll_ctl(ep_, op, s.fd, &ev) != 0) {
            finish(idx, port_state::open, 0);
            return;
        }
        s.registered = true;
        if (is_http_port(s.p.port)) {
            static constexpr std::string_view req = "HEAD / HTTP/1.0\r\n\r\n";
            (void)!::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        banner_q_.push_back({idx, s.attempt_id, clock::now() + std::chrono::milliseconds(o_.banner_timeout_ms)});
    }

    void read_banner(uint32_t idx) {
        slot& s = slots_[idx];
        std::string buf(o_.banner_bytes, '\0');
        ssize_t n = ::recv(s.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
        finish(idx, port_state::open, 0, std::move(buf));
    }

    // Reports the attempt in `s` as closed or filtered, or queues it again for a retry. The
    // socket is left alone.
    void settle_failure(const slot& s, int err) {
        if (err == ECONNREFUSED) report(s, port_state::closed, err);
        else if (err == ETIMEDOUT && s.attempts <= o_.retries) queue_.push_back({s.p, s.attempts});
        else report(s, port_state::filtered, err);
    }

    void report(const slot& s, port_state st, int err, std::string banner = {}) {
        probe_result r;
        r.p = s.p;
        r.state = st;
        r.error = err;
        r.rtt_ms = s.rtt_ms;
        r.attempts = s.attempts;
        r.banner = std::move(banner);
        sh_.report(std::move(r));
    }

    void failed(uint32_t idx, int err) {
        settle_failure(slots_[idx], err);
        release(idx, false);
    }

    void finish(uint32_t idx, port_state st, int err, std::string banner = {}) {
        report(slots_[idx], st, err, std::move(banner));
        release(idx, st == port_state::open);
    }

    // Closes the slot's socket (with a reset when it is connected: no TIME_WAIT on either side)
    // and frees the slot. Closing also takes the socket out of the epoll set.
    void release(uint32_t idx, bool reset) {
        slot& s = slots_[idx];
        if (s.fd >= 0) {
            if (reset) {
                linger l{1, 0};
                ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            }
            ::close(s.fd);
        }
        s.fd = -1;
        s.ph = phase::idle;
        s.registered = false;
        if (s.src) sh_.drop(s.local);
        s.src = nullptr;
        ++s.gen;
        free_.push_back(idx);
        --active_;
    }

    void expire() {
        auto now = clock::now();
        while (!connect_q_.empty() && connect_q_.front().at <= now) {
            auto d = connect_q_.front();
            connect_q_.pop_front();
            slot& s = slots_[d.idx];
            if (s.attempt_id != d.attempt_id || s.ph != phase::connecting) continue;
            s.rtt_ms = ms_since(s.started);
            failed(d.idx, ETIMEDOUT);
        }
        while (!banner_q_.empty() && banner_q_.front().at <= now) {
            auto d = banner_q_.front();
            banner_q_.pop_front();
            slot& s = slots_[d.idx];
            if (s.attempt_id != d.attempt_id || s.ph != phase::banner) continue;
            finish(d.idx, port_state::open, 0);
        }
    }

    const connect_options& o_;
    shared& sh_;
    unsigned limit_;
    unsigned active_ = 0;
    int ep_ = -1;
    std::vector<slot> slots_;
    std::vector<uint32_t> free_;
    std::deque<pending> queue_;  // retries, and probes put back
    std::vector<probe> batch_;   // pulled from the shared source, not started yet
    size_t batch_i_ = 0, batch_want_ = 1;
    std::deque<deadline> connect_q_, banner_q_;
    clock::duration token_wait_{};
    bool token_short_ = false;
    clock::time_point backoff_until_{};
    const port_pool& ports_;
    uint16_t next_port_ = 0;
    std::map<std::pair<std::array<uint8_t, 16>, bool>, source> sources_;
    ip::address last_dst_;
    const source* last_src_ = nullptr;
};

}  // namespace

unsigned default_threads() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<unsigned>(n);
    }
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1u;
}

status connect_scan(const connect_options& o, const std::function<bool(probe&)>& next,
                    const std::function<void(probe_result&&)>& done) {
    shared sh(o, next, done);
    const port_pool ports = port_pool::read();
    unsigned concurrency = std::max(1u, o.concurrency);
    unsigned n = std::clamp(o.threads ? o.threads : default_threads(), 1u, concurrency);
    auto limit = [&](unsigned i) { return concurrency / n + (i < concurrency % n ? 1 : 0); };
    if (n == 1) {
        scanner s(o, sh, limit(0), ports);
        return s.run();
    }
    std::vector<status> results(n);
    std::vector<std::exception_ptr> thrown(n);
    auto loop = [&](unsigned i) {
        try {
            scanner s(o, sh, limit(i), ports);
            results[i] = s.run();
            if (!results[i]) sh.stop = true;
        } catch (...) {
            thrown[i] = std::current_exception();
            sh.stop = true;
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(n - 1);
    for (unsigned i = 1; i < n; ++i) pool.emplace_back(loop, i);
    loop(0);
    for (auto& t : pool) t.join();
    for (auto& e : thrown)
        if (e) std::rethrow_exception(e);
    for (auto& r : results)
        if (!r) return r;
    return {};
}

}  // namespace sds::scan
