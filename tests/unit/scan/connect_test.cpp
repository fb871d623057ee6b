// The epoll scanner against listeners on loopback only (127.0.0.1, ::1).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <thread>

#include "sds/scan/connect.hpp"

using namespace sds;
using namespace sds::scan;

namespace {

struct listener {
    int fd = -1;
    uint16_t port = 0;
    explicit listener(bool v6, int backlog = 64) {
        fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage ss{};
        socklen_t len;
        if (v6) {
            auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
            s->sin6_family = AF_INET6;
            s->sin6_addr = in6addr_loopback;
            len = sizeof *s;
        } else {
            auto* s = reinterpret_cast<sockaddr_in*>(&ss);
            s->sin_family = AF_INET;
            s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *s;
        }
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
        REQUIRE(::listen(fd, backlog) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
        port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    ~listener() { ::close(fd); }
};

using results = std::map<std::pair<bool, uint16_t>, probe_result>;  // (v4, port)

// Scans every (address, port) pair, address-major; each result must come exactly once.
results run_scan(const std::vector<ip::address>& addrs, const std::vector<uint16_t>& ports, connect_options o) {
    size_t i = 0;
    results out;
    size_t reported = 0;
    auto s = connect_scan(
        o,
        [&](probe& p) {
            if (i == ports.size() * addrs.size()) return false;
            p.addr = addrs[i % addrs.size()];
            p.port = ports[i / addrs.size()];
            ++i;
            return true;
        },
        [&](probe_result&& r) {
            ++reported;
            auto key = std::make_pair(r.p.addr.v4, r.p.port);
            CHECK(out.count(key) == 0);  // each probe reported once
            out[key] = std::move(r);
        });
    REQUIRE(s);
    CHECK(reported == ports.size() * addrs.size());
    return out;
}

std::map<uint16_t, probe_result> run_scan(const ip::address& a, const std::vector<uint16_t>& ports, connect_options o) {
    std::map<uint16_t, probe_result> out;
    for (auto& [k, r] : run_scan(std::vector<ip::address>{a}, ports, o)) out[k.second] = std::move(r);
    return out;
}

// Ports of `v6 ? ::1 : 127.0.0.1` nobody listens on (bound, then released).
std::vector<uint16_t> closed_ports(bool v6, size_t n) {
    std::vector<std::unique_ptr<listener>> tmp;
    for (size_t i = 0; i < n; ++i) tmp.push_back(std::make_unique<listener>(v6));
    std::vector<uint16_t> out;
    for (auto& l : tmp) out.push_back(l->port);
    return out;
}

}  // namespace

TEST_CASE("connect scanner: open and closed ports on 127.0.0.1 and ::1, each reported once") {
    for (bool v6 : {false, true}) {
        listener a(v6), b(v6);
        uint16_t closed_port;
        {
            listener c(v6);
            closed_port = c.port;
        }
        connect_options o;
        o.banner_timeout_ms = 0;
        o.rate = 0;
        auto r = run_scan(*ip::parse(v6 ? "::1" : "127.0.0.1"), {a.port, b.port, closed_port}, o);
        REQUIRE(r.size() == 3);
        CHECK(r[a.port].state == port_state::open);
        CHECK(r[b.port].state == port_state::open);
        CHECK(r[closed_port].state == port_state::closed);
    }
}

TEST_CASE("connect scanner: the banner a service sends first is kept") {
    listener l(false);
    std::thread srv([&] {
        int c = ::accept(l.fd, nullptr, nullptr);
        const char msg[] = "SSH-2.0-sds_test\r\n";
        (void)!::write(c, msg, sizeof msg - 1);
        char buf[16];
        (void)!::read(c, buf, sizeof buf);  // until the scanner resets
        ::close(c);
    });
    connect_options o;
    o.banner_timeout_ms = 2000;
    auto r = run_scan(*ip::parse("127.0.0.1"), {l.port}, o);
    srv.join();
    CHECK(r[l.port].state == port_state::open);
    CHECK(r[l.port].banner == "SSH-2.0-sds_test\r\n");
}

TEST_CASE("connect scanner: --rate paces connection attempts, also over several threads") {
    std::vector<uint16_t> ports = closed_ports(false, 40);
    for (unsigned threads : {1u, 2u}) {
        CAPTURE(threads);
        connect_options o;
        o.rate = 100;  // 40 attempts, burst of 2, shared by the threads: at least ~0.38 s
        o.threads = threads;
        o.banner_timeout_ms = 0;
        auto t0 = std::chrono::steady_clock::now();
        auto r = run_scan(*ip::parse("127.0.0.1"), ports, o);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        CHECK(r.size() == ports.size());
        CHECK(secs > 0.3);
        CHECK(secs < 3.0);
    }
}

TEST_CASE("connect scanner: many closed ports through few reused sockets, v4 and v6 interleaved, on 1-3 threads") {
    listener a6(true), b6(true);
    // Every port number once in the list (a v6 listener's port may also be free on 127.0.0.1).
    std::vector<std::unique_ptr<listener>> v4;
    while (v4.size() < 2) {
        auto l = std::make_unique<listener>(false);
        if (l->port != a6.port && l->port != b6.port) v4.push_back(std::move(l));
    }
    listener &a4 = *v4[0], &b4 = *v4[1];
    std::vector<uint16_t> shut;
    for (uint16_t p : closed_ports(false, 160))
        if (p != a6.port && p != b6.port && shut.size() < 150) shut.push_back(p);
    std::vector<uint16_t> ports = shut;
    ports.insert(ports.begin() + 40, a4.port);
    ports.insert(ports.begin() + 90, b4.port);
    ports.push_back(a6.port);
    ports.push_back(b6.port);
    std::vector<ip::address> both{*ip::parse("127.0.0.1"), *ip::parse("::1")};
    std::vector<ip::address> v4_only{both[0]};
    for (unsigned threads : {1u, 2u, 3u}) {
        for (const auto* addrs : {&v4_only, &both}) {
            CAPTURE(threads);
            CAPTURE(addrs->size());
            connect_options o;
            o.banner_timeout_ms = 0;
            o.rate = 0;
            o.threads = threads;
            o.concurrency = 6;  // every socket carries many probes
            auto r = run_scan(*addrs, ports, o);
            REQUIRE(r.size() == ports.size() * addrs->size());
            for (const auto& [key, res] : r) {
                bool listening = key.first ? (key.second == a4.port || key.second == b4.port)
                                           : (key.second == a6.port || key.second == b6.port);
                CAPTURE(key.second);
                CHECK(res.state == (listening ? port_state::open : port_state::closed));
                CHECK(res.error == (listening ? 0 : ECONNREFUSED));
                CHECK(res.attempts == 1);
            }
        }
    }
}

TEST_CASE("connect scanner: silence is filtered after --retries more attempts, refusals are not retried") {
    // A listener whose accept queue is full drops further SYNs: the connect times out.
    listener full(false, 0);
    int first = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(full.port);
    REQUIRE(::connect(first, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    std::vector<uint16_t> ports = closed_ports(false, 20);
    ports.insert(ports.begin() + 10, full.port);
    for (unsigned threads : {1u, 2u}) {
        CAPTURE(threads);
        connect_options o;
        o.banner_timeout_ms = 0;
        o.rate = 0;
        o.threads = threads;
        o.concurrency = 4;
        o.timeout_ms = 200;
        o.retries = 2;
        auto r = run_scan(*ip::parse("127.0.0.1"), ports, o);
        REQUIRE(r.size() == ports.size());
        CHECK(r[full.port].state == port_state::filtered);
        CHECK(r[full.port].error == ETIMEDOUT);
        CHECK(r[full.port].attempts == 3);
        for (uint16_t p : ports)
            if (p != full.port) {
                CHECK(r[p].state == port_state::closed);
                CHECK(r[p].attempts == 1);
            }
    }
    ::close(first);
}

TEST_CASE("connect scanner: an exception from the result sink stops every thread and reaches the caller") {
    std::vector<uint16_t> ports = closed_ports(false, 200);
    connect_options o;
    o.banner_timeout_ms = 0;
    o.rate = 0;
    o.threads = 2;
    o.concurrency = 8;
    size_t i = 0, reported = 0;
    struct stop_here {};
    CHECK_THROWS_AS(connect_scan(
                        o,
                        [&](probe& p) {
                            if (i == ports.size()) return false;
                            p.addr = *ip::parse("127.0.0.1");
                            p.port = ports[i++];
                            return true;
                        },
                        [&](probe_result&&) {
                            if (++reported == 5) throw stop_here{};
                        }),
                    stop_here);
    CHECK(reported < ports.size());
}
