#pragma once
// sds-scan: TCP connect scan (+ banner, service guess) and TLS inspection of the targets it is
// given, one NDJSON record per open port / TLS endpoint. `sds-scan plan` lives in plan.hpp.
//
// Counting (the --stats identity in == out + rejected + filtered): the unit is one probe, an
// (address, port) pair. `in` = probes planned after expansion, resolution and de-duplication,
// plus one per target that could not be used; `out` = records written; `rejected` = unusable
// targets (bad address/CIDR/name, unresolvable name, over --max-targets); `filtered` = probes
// that produced no record (closed and filtered ports, unless --all).
#include <cstdint>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/scan/connect.hpp"

namespace sds::scan {

struct options {
    std::vector<std::string> targets;  // positional TARGET… ("-" = stdin)
    std::vector<std::string> inputs;   // --input FILE…
    std::vector<std::string> target_fields;
    std::string ports = "top1000";
    uint64_t max_targets = 65536;
    unsigned resolve_jobs = 16;
    connect_options tcp;
    std::string timeout = "1s";
    std::string banner_timeout = "1s";
    bool all = false;  // also write closed and filtered ports
    // TLS
    bool tls = false;     // inspect every open port
    bool no_tls = false;  // never inspect (not even the usual TLS ports)
    std::string cacert;
    int warn_days = 30;
    unsigned tls_jobs = 8;
    std::string tls_timeout = "5s";
};

// Parses "500ms", "2s", "1.5s", "1m" (a bare number is seconds) into milliseconds.
expected<int> parse_duration_ms(std::string_view text);

void add_options(cli::tool& t, options& o);
exit_code run(cli::tool& t, options& o);

}  // namespace sds::scan
