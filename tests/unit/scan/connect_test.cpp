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
    explicit listener(bool v6) {
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
        REQUIRE(::listen(fd, 64) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
        port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    ~listener() { ::close(fd); }
};

std::map<uint16_t, probe_result> run_scan(const ip::address& a, const std::vector<uint16_t>& ports, connect_options o) {
    size_t i = 0;
    std::map<uint16_t, probe_result> out;
    auto s = connect_scan(
        o,
        [&](probe& p) {
            if (i == ports.size()) return false;
            p.addr = a;
            p.port = ports[i++];
            return true;
        },
        [&](probe_result&& r) {
            CHECK(out.count(r.p.port) == 0);  // each probe reported once
            out[r.p.port] = std::move(r);
        });
    REQUIRE(s);
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

TEST_CASE("connect scanner: --rate paces connection attempts") {
    std::vector<uint16_t> ports;
    {
        std::vector<std::unique_ptr<listener>> tmp;
        for (int i = 0; i < 40; ++i) tmp.push_back(std::make_unique<listener>(false));
        for (auto& l : tmp) ports.push_back(l->port);
    }  // all closed now
    connect_options o;
    o.rate = 100;  // 40 attempts, burst of 2: at least ~0.38 s
    o.banner_timeout_ms = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto r = run_scan(*ip::parse("127.0.0.1"), ports, o);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.size() == ports.size());
    CHECK(secs > 0.3);
    CHECK(secs < 3.0);
}
