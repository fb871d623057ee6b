#pragma once
// Port lists for --ports: "22,80,443", "1-1024", "-" (all), "top100", "top1000" (by the service
// frequencies of nmap-services, as nmap's --top-ports), mixed freely: "top100,8000-8100".
#include <cstdint>
#include <string_view>
#include <vector>

#include "sds/core/expected.hpp"

namespace sds::scan {

// Sorted, without duplicates. Errors are usage errors naming the bad item.
expected<std::vector<uint16_t>> parse_ports(std::string_view spec);

// Ports that usually speak TLS from the first byte (https, smtps, ldaps, imaps, pop3s, …).
bool is_tls_port(uint16_t port) noexcept;

}  // namespace sds::scan
