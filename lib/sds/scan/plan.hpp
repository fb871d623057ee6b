#pragma once
// sds-scan plan: spreads targets over the buckets of a window (a day of 15-minute buckets by
// default) so a scheduler can start each scan at its `scheduled_at`. Buckets are filled in
// rounds, each round a fresh random permutation of the buckets, so no bucket holds more than one
// target more than any other; inside its bucket a target's time is uniform. With --seed the plan
// is deterministic. Targets are validated (bad ones dead-lettered) but not resolved.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/core/time.hpp"

namespace sds::scan {

struct plan_options {
    std::vector<std::string> targets;
    std::vector<std::string> inputs;
    std::vector<std::string> target_fields;
    std::string window = "24h";
    std::string bucket = "15m";
    std::optional<uint64_t> seed;
    std::string start;  // RFC 3339; default: the next window boundary (next UTC midnight for 24h)
};

// The planner on its own (unit-tested): call next() once per target.
class planner {
public:
    planner(time::millis start, time::millis window, time::millis bucket, uint64_t seed);
    struct slot {
        uint64_t bucket;
        time::millis at;
    };
    slot next();
    uint64_t buckets() const noexcept { return n_; }

private:
    uint64_t rand();
    uint64_t below(uint64_t n);
    time::millis start_, bucket_;
    uint64_t n_, state_, pos_ = 0;
    std::vector<uint64_t> order_;
};

void add_plan_options(cli::tool& t, CLI::App& sub, plan_options& o);
exit_code run_plan(cli::tool& t, const plan_options& o);

}  // namespace sds::scan
