#pragma once
// A service guess for an open port: from the banner when it says what it is (SSH-2.0-…,
// 220 … ESMTP, HTTP/1.1 …), else from the port's registered service name.
#include <cstdint>
#include <string_view>

namespace sds::scan {

struct service_guess {
    std::string_view name;    // IANA/nmap-style service name ("ssh", "http", "smtp"…); empty = unknown
    std::string_view method;  // "banner" or "port"
};

service_guess guess_service(uint16_t port, std::string_view banner) noexcept;

}  // namespace sds::scan
