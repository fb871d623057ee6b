#include "sds/scan/service.hpp"

#include <algorithm>
#include <cctype>

namespace sds::scan {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool contains_nocase(std::string_view s, std::string_view p) {
    auto it = std::search(s.begin(), s.end(), p.begin(), p.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != s.end();
}

std::string_view by_banner(std::string_view b) {
    if (b.empty()) return {};
    if (starts_with(b, "SSH-")) return "ssh";
    if (starts_with(b, "HTTP/")) return "http";
    if (starts_with(b, "220")) {
        if (contains_nocase(b, "ftp")) return "ftp";
        if (contains_nocase(b, "smtp") || contains_nocase(b, "mail")) return "smtp";
        return "ftp";
    }
    if (starts_with(b, "+OK")) return "pop3";
    if (starts_with(b, "* OK") || starts_with(b, "* PREAUTH")) return "imap";
    if (starts_with(b, "-ERR") || starts_with(b, "-NOAUTH") || starts_with(b, "-DENIED")) return "redis";
    if (starts_with(b, "RFB ")) return "vnc";
    if (starts_with(b, "AMQP")) return "amqp";
    if (starts_with(b, "@RSYNCD")) return "rsync";
    if (b.size() > 5 && static_cast<unsigned char>(b[4]) == 0x0a && contains_nocase(b, "mysql")) return "mysql";
    if (b.size() > 5 && static_cast<unsigned char>(b[4]) == 0x0a && contains_nocase(b, "mariadb")) return "mysql";
    if (b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0x16 && static_cast<unsigned char>(b[1]) == 0x03) return "ssl";
    return {};
}

struct entry {
    uint16_t port;
    std::string_view name;
};

// Sorted by port.
constexpr entry well_known[] = {
    {7, "echo"}, {21, "ftp"}, {22, "ssh"}, {23, "telnet"}, {25, "smtp"}, {53, "domain"}, {79, "finger"},
    {80, "http"}, {88, "kerberos"}, {110, "pop3"}, {111, "rpcbind"}, {119, "nntp"}, {135, "msrpc"},
    {139, "netbios-ssn"}, {143, "imap"}, {179, "bgp"}, {389, "ldap"}, {443, "https"}, {445, "microsoft-ds"},
    {465, "smtps"}, {514, "shell"}, {548, "afp"}, {554, "rtsp"}, {587, "submission"}, {631, "ipp"},
    {636, "ldaps"}, {853, "domain-s"}, {873, "rsync"}, {990, "ftps"}, {993, "imaps"}, {995, "pop3s"},
    {1433, "ms-sql-s"}, {1521, "oracle"}, {1723, "pptp"}, {1883, "mqtt"}, {2049, "nfs"}, {2375, "docker"},
    {2376, "docker-s"}, {3000, "ppp"}, {3128, "squid-http"}, {3306, "mysql"}, {3389, "ms-wbt-server"},
    {5060, "sip"}, {5432, "postgresql"}, {5601, "kibana"}, {5672, "amqp"}, {5900, "vnc"}, {5985, "wsman"},
    {5986, "wsmans"}, {6379, "redis"}, {6443, "kubernetes"}, {8000, "http-alt"}, {8080, "http-proxy"},
    {8443, "https-alt"}, {8883, "secure-mqtt"}, {9092, "kafka"}, {9200, "elasticsearch"}, {9418, "git"},
    {10250, "kubelet"}, {11211, "memcache"}, {27017, "mongodb"},
};

}  // namespace

service_guess guess_service(uint16_t port, std::string_view banner) noexcept {
    if (auto n = by_banner(banner); !n.empty()) return {n, "banner"};
    auto it = std::lower_bound(std::begin(well_known), std::end(well_known), port,
                               [](const entry& e, uint16_t p) { return e.port < p; });
    if (it != std::end(well_known) && it->port == port) return {it->name, "port"};
    return {};
}

}  // namespace sds::scan
