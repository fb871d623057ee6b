#pragma once
// Targets: what sds-scan is told to look at. Text items (arguments, plain lines) are IPv4/IPv6
// addresses, CIDR networks or host names; NDJSON lines name them in a field (host.ip,
// destination.ip, host.name, … or --target-field), and may pin a port (destination.port),
// which is how sds-scan reads its own output for a second, TLS stage.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/core/expected.hpp"
#include "sds/core/ip.hpp"

namespace sds::scan {

enum class target_kind { address, network, name };

struct target {
    target_kind kind = target_kind::address;
    ip::address addr;      // address
    ip::network net;       // network
    std::string name;      // name (lower-case, no trailing dot)
    uint64_t size = 1;     // addresses it stands for (networks: saturating at UINT64_MAX)
};

// Classifies one target text. Errors carry the dead-letter reason ("invalid CIDR", …).
expected<target> parse_target(std::string_view text);

// The i-th address of a network (i < size).
ip::address network_address(const ip::network& n, uint64_t i);
uint64_t network_size(const ip::network& n);

// Resolves names concurrently (getaddrinfo on up to `threads` threads). result[i] holds the
// addresses of names[i] (deduplicated, in resolver order) or the reason it failed.
std::vector<expected<std::vector<ip::address>>> resolve_all(const std::vector<std::string>& names, unsigned threads);

// One target as read from the input, before classification.
struct input_item {
    std::string_view text;             // the target text
    std::optional<uint16_t> port;      // a port pinned by the record (destination.port)
    std::string_view domain;           // destination.domain of an NDJSON record, if any
    std::string_view source;           // file name ("stdin" / "argument")
    uint64_t line = 0;
    std::string_view record;           // the whole line, for dead letters
    std::string_view original_json;    // the NDJSON record when the line is one (plan keeps it)
};

// Default fields looked up in NDJSON records, in order.
const std::vector<std::string>& default_target_fields();

// Reads targets from files ("-" = stdin), one per line: blank lines and '#' comments are
// skipped, a line starting with '{' is an NDJSON record (its target found in `fields`), anything
// else is the target text itself. gzip/zstd input is decoded. Lines that cannot be used are
// rejected on the tool (and counted in `in`). Returns the worst outcome of reading.
exit_code read_targets(cli::tool& t, const std::vector<std::string>& files, const std::vector<std::string>& fields,
                       const std::function<void(const input_item&)>& fn);

}  // namespace sds::scan
