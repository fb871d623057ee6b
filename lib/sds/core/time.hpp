#pragma once
// Timestamps: parsing the forms security logs use, and RFC 3339 UTC output with milliseconds
// (the form of every @timestamp sds writes).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sds::time {

// Milliseconds since the Unix epoch (UTC).
using millis = int64_t;

// RFC 3339 / ISO 8601: "2024-01-02T03:04:05Z", with optional fraction (any digits), "Z" or
// "+hh:mm"/"-hh:mm"/"+hhmm" offsets, 'T' or ' ' between date and time; a date-time without
// zone is taken as UTC.
std::optional<millis> parse_iso8601(std::string_view s);
// Epoch seconds or milliseconds (decided by magnitude), possibly with a fraction: "1700000000",
// "1700000000.123", "1700000000123".
std::optional<millis> parse_epoch(std::string_view s);
// Apache/NGINX/Squid common log time: "10/Oct/2000:13:55:36 -0700".
std::optional<millis> parse_clf(std::string_view s);
// Relative durations for --since: "36h", "15m", "7d", "90s", "2w" → milliseconds.
std::optional<millis> parse_duration(std::string_view s);

// Days since 1970-01-01 for a civil date, and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept;
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) noexcept;

// "2024-01-02T03:04:05.678Z"
void append_rfc3339(std::string& out, millis t);
std::string rfc3339(millis t);
// Wall clock now.
millis now();

}  // namespace sds::time
