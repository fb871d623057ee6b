#pragma once
// Internals of the connect scanner (connect.cpp): socket address helpers, the source address
// and local port pool a scan binds its sockets to, and what the event loops of one scan share.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sds/scan/connect.hpp"

namespace sds::scan::detail {

using clock = std::chrono::steady_clock;

socklen_t to_sockaddr(const ip::address& a, uint16_t port, sockaddr_storage& ss);
uint16_t port_of(const sockaddr_storage& a);
// Family, address and port of a socket address, as a key.
std::string endpoint_key(const sockaddr_storage& a);
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b);

// The local address connections to a destination leave from (the kernel's choice, learnt from
// a UDP socket connect()ed to it: no packet is sent). len 0: unknown, let connect() choose.
struct source {
    sockaddr_storage ss{};
    socklen_t len = 0;
};

// The local ports connect() would pick from (ip_local_port_range), less the reserved ones.
struct port_pool {
    uint16_t lo = 32768, hi = 60999;
    std::vector<bool> reserved;  // indexed by port; empty: none

    static port_pool read();
};

// What the event loops of one scan share: the probe source, the result sink, the rate budget
// and the stop flag. Every member is safe to use from any thread.
class shared {
public:
    shared(const connect_options& o, const std::function<bool(probe&)>& next,
           const std::function<void(probe_result&&)>& done)
        : rate_(o.rate), burst_(o.rate > 0 ? std::max(1.0, o.rate / 50.0) : 0), next_(next), done_(done) {
        tokens_ = burst_;
        last_refill_ = clock::now();
    }

    // Appends up to `want` probes to `out`; false when the source is dry.
    bool pull(std::vector<probe>& out, size_t want) {
        if (dry_.load(std::memory_order_relaxed)) return false;
        std::lock_guard<std::mutex> g(source_m_);
        probe p;
        while (want-- > 0) {
            if (dry_.load(std::memory_order_relaxed) || !next_(p)) {
                dry_ = true;
                break;
            }
            out.push_back(p);
        }
        return !out.empty();
    }
    bool dry() const noexcept { return dry_.load(std::memory_order_relaxed); }

    void report(probe_result&& r) {
        std::lock_guard<std::mutex> g(done_m_);
        done_(std::move(r));
    }

    // One connection attempt's worth of the --rate budget; when there is none, `wait` says how
    // long until there is.
    bool take_token(clock::duration& wait) {
        if (rate_ <= 0) return true;
        std::lock_guard<std::mutex> g(rate_m_);
        auto now = clock::now();
        tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_refill_).count() * rate_);
        last_refill_ = now;
        if (tokens_ >= 1.0) {
            tokens_ -= 1.0;
            return true;
        }
        wait = std::chrono::microseconds(static_cast<int64_t>((1.0 - tokens_) / rate_ * 1e6) + 1);
        return false;
    }
    void give_back_token() {
        if (rate_ <= 0) return;
        std::lock_guard<std::mutex> g(rate_m_);
        tokens_ = std::min(burst_, tokens_ + 1.0);
    }

    std::atomic<bool> stop{false};

    // The local addresses and ports our own sockets are bound to.
    void hold(const std::string& key) {
        std::lock_guard<std::mutex> g(bound_m_);
        bound_.insert(key);
    }
    void drop(const std::string& key) {
        std::lock_guard<std::mutex> g(bound_m_);
        if (auto it = bound_.find(key); it != bound_.end()) bound_.erase(it);
    }
    bool held(const std::string& key) {
        std::lock_guard<std::mutex> g(bound_m_);
        return bound_.count(key) != 0;
    }

private:
    std::mutex bound_m_;
    std::multiset<std::string> bound_;
    const double rate_, burst_;
    const std::function<bool(probe&)>& next_;
    const std::function<void(probe_result&&)>& done_;
    std::mutex source_m_, done_m_, rate_m_;
    std::atomic<bool> dry_{false};
    double tokens_ = 0;
    clock::time_point last_refill_;
};

}  // namespace sds::scan::detail
