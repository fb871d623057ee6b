#include "sds/scan/connect_detail.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>

namespace sds::scan::detail {

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

uint16_t port_of(const sockaddr_storage& a) {
    return ntohs(a.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(a).sin_port
                                        : reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
}

// Family, address and port of a socket address, as a key.
std::string endpoint_key(const sockaddr_storage& a) {
    std::string k(1, static_cast<char>(a.ss_family));
    if (a.ss_family == AF_INET) k.append(reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in&>(a).sin_addr), 4);
    else k.append(reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr), 16);
    uint16_t port = port_of(a);
    k.append(reinterpret_cast<const char*>(&port), 2);
    return k;
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET)
        return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr,
                       sizeof(in6_addr)) == 0;
}

port_pool port_pool::read() {
    port_pool p;
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned lo = 0, hi = 0;
    if (range >> lo >> hi && lo > 0 && lo <= hi && hi <= 65535) {
        p.lo = static_cast<uint16_t>(lo);
        p.hi = static_cast<uint16_t>(hi);
    }
    std::ifstream res("/proc/sys/net/ipv4/ip_local_reserved_ports");
    std::string list;
    if (std::getline(res, list) && !list.empty()) {
        p.reserved.assign(65536, false);
        size_t i = 0;
        while (i < list.size()) {
            size_t end = list.find(',', i);
            if (end == std::string::npos) end = list.size();
            unsigned a = 0, b = 0;
            auto item = list.substr(i, end - i);
            int n = std::sscanf(item.c_str(), "%u-%u", &a, &b);
            if (n == 1) b = a;
            if (n >= 1)
                for (unsigned q = a; q <= b && q < 65536; ++q) p.reserved[q] = true;
            i = end + 1;
        }
    }
    return p;
}

}  // namespace sds::scan::detail
