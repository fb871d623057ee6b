#pragma once
// Online history for --learn: what each entity (and, under key 0, anybody) has been seen with —
// entity, address, /24, /16, ASN, country — with the time first seen, and each entity's last
// located event (for impossible travel). --state FILE keeps it between runs: a versioned,
// checksummed binary file written atomically.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "sds/core/expected.hpp"
#include "sds/core/time.hpp"
#include "sds/score/features.hpp"

namespace sds::score {

struct last_position {
    time::millis ts = 0;
    double lat = 0, lon = 0;
};

class history {
public:
    bool seen(uint64_t key) const { return first_.count(key) != 0; }
    // Records the pair's keys (first-seen time = the record's time, else `now`).
    void learn(const pair& p, time::millis now);
    size_t size() const noexcept { return first_.size(); }
    std::unordered_map<uint64_t, last_position>& positions() noexcept { return last_; }
    // Missing file = empty history; a file that is not a state file (or corrupt) is an error.
    static expected<history> load(const std::string& path);
    status save(const std::string& path) const;

private:
    std::unordered_map<uint64_t, time::millis> first_;
    std::unordered_map<uint64_t, last_position> last_;
};

}  // namespace sds::score
