#pragma once
// Listing with date-partition pruning. AWS log layouts put objects under …/YYYY/MM/DD/
// (CloudTrail, ELB/ALB, VPC Flow Logs) or …/YYYY/MM/DD/HH/ (Firehose). With a time range, the
// walk lists level by level with delimiter "/" and descends only into partitions that overlap
// the range, so a cron run over the last two hours lists a handful of prefixes, not the bucket.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/core/time.hpp"
#include "sds/s3/client.hpp"

namespace sds::s3 {

struct time_range {
    std::optional<time::millis> since;  // inclusive
    std::optional<time::millis> until;  // exclusive
    bool bounded() const noexcept { return since || until; }
    bool overlaps(time::millis begin, time::millis end) const noexcept {
        return (!since || end > *since) && (!until || begin < *until);
    }
    bool contains(time::millis begin, time::millis end) const noexcept {
        return (!since || begin >= *since) && (!until || end <= *until);
    }
};

// "2h", "36h", "7d" (before now) or an RFC 3339 time.
expected<time::millis> parse_time_arg(std::string_view text, time::millis now);

// The time span a partitioned path names: the directory part of `path` (everything up to the
// last '/') is searched for YYYY[/MM[/DD[/HH]]] components. Level 1 = year … 4 = hour.
struct partition {
    time::millis begin = 0;
    time::millis end = 0;
    int level = 0;
};
std::optional<partition> partition_of(std::string_view path);

struct listing_request {
    std::string bucket;
    std::string prefix;
    time_range range;
    int max_depth = 12;  // levels of non-date prefixes walked before listing flat
};

// Lists the objects under bucket/prefix (pruned by range when it is bounded) and returns them
// sorted by key. Objects in partitions outside the range are left out; objects whose path
// names no date are kept.
expected<std::vector<object>> list_objects(client& c, const listing_request& req);

}  // namespace sds::s3
