#pragma once
// The TCP connect scanner: non-blocking connect()s multiplexed on epoll, at most `concurrency`
// in flight, started no faster than `rate` per second (token bucket), each given `timeout` to
// answer and retried `retries` times when nothing came back. The probes are shared out over
// `threads` event loops (one epoll instance each); `concurrency` and `rate` hold for the whole
// scan, not per thread. A socket whose attempt was refused is connected again for the next probe
// (no new socket, no epoll registration). An accepted
// connection is open, a reset is closed, silence (or an ICMP unreachable) is filtered. On an
// open port the scanner waits up to `banner_timeout` for the service's first bytes (and nudges
// plain HTTP ports with a HEAD request), then resets the connection.
#include <cstdint>
#include <functional>
#include <string>

#include "sds/core/expected.hpp"
#include "sds/core/ip.hpp"

namespace sds::scan {

struct connect_options {
    unsigned concurrency = 512;
    unsigned threads = 0;        // event loops; 0 = one per online core
    double rate = 2000;          // connection attempts per second; 0 = unlimited
    int timeout_ms = 1000;       // per attempt
    int retries = 1;             // extra attempts after a timeout
    int banner_timeout_ms = 1000;  // 0 = no banner grab
    size_t banner_bytes = 256;
    bool banner_on_tls_ports = false;  // TLS ports stay silent until the client speaks
};

enum class port_state : uint8_t { open, closed, filtered };
const char* to_string(port_state s) noexcept;

struct probe {
    ip::address addr;
    uint16_t port = 0;
    uint32_t tag = 0;  // caller's index (the host the probe belongs to)
};

struct probe_result {
    probe p;
    port_state state = port_state::filtered;
    int error = 0;          // errno behind closed/filtered (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH…)
    double rtt_ms = 0;      // connect time of the successful or refused attempt
    int attempts = 0;
    std::string banner;     // first bytes the service sent (open ports)
};

// Pulls probes from `next` (false = no more) and reports every one exactly once to `done`.
// `next` and `done` may be called from any of the scan's threads, each from one thread at a
// time (but the two may run at the same moment).
// Results come in completion order. Stops early when interrupted (unreported probes are
// dropped). Errors: epoll/socket failures that stop the scan (runtime). An exception thrown by
// `done` stops every thread and is rethrown here.
status connect_scan(const connect_options& o, const std::function<bool(probe&)>& next,
                    const std::function<void(probe_result&&)>& done);

// The event loops `threads` = 0 stands for: the cores this process may run on.
unsigned default_threads() noexcept;

// Whether the scanner sends an HTTP request to provoke a banner on this port.
bool is_http_port(uint16_t port) noexcept;

}  // namespace sds::scan
