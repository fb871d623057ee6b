// core/time: the timestamp forms security logs use, and RFC 3339 output.
#include <doctest/doctest.h>

#include <string>

#include "sds/core/time.hpp"

using namespace sds;
namespace t = sds::time;

namespace {
std::optional<t::millis> iso(const char* s) { return t::parse_iso8601(s); }
constexpr t::millis base = 1704164645000;  // 2024-01-02T03:04:05Z
}  // namespace

TEST_CASE("time: ISO 8601 variants of one instant") {
    CHECK(iso("2024-01-02T03:04:05Z") == base);
    CHECK(iso("2024-01-02t03:04:05z") == base);
    CHECK(iso("2024-01-02 03:04:05Z") == base);
    CHECK(iso("2024-01-02T03:04:05") == base);  // no zone: UTC
    CHECK(iso("2024-01-02T03:04:05.000Z") == base);
    CHECK(iso("2024-01-02T03:04:05.678Z") == base + 678);
    CHECK(iso("2024-01-02T03:04:05.6Z") == base + 600);
    CHECK(iso("2024-01-02T03:04:05.123456789Z") == base + 123);  // truncated to ms
    CHECK(iso("2024-01-02T03:04:05,5Z") == base + 500);
    CHECK(iso("2024-01-02T03:04Z") == base - 5000);
    CHECK(iso("2024-01-02") == base - (3 * 3600 + 4 * 60 + 5) * 1000);
}

TEST_CASE("time: ISO 8601 offsets") {
    CHECK(iso("2024-01-02T05:04:05+02:00") == base);
    CHECK(iso("2024-01-02T05:04:05+0200") == base);
    CHECK(iso("2024-01-02T05:04:05+02") == base);
    CHECK(iso("2024-01-01T22:34:05-04:30") == base);
    CHECK(iso("2024-01-02T03:04:05.250-00:00") == base + 250);
}

TEST_CASE("time: invalid dates, times and offsets are rejected") {
    for (const char* s : {"", "2024", "2024-13-01", "2024-00-10", "2024-02-30", "2023-02-29", "1900-02-29",
                          "2024-04-31", "2024-01-02T24:00:00Z", "2024-01-02T03:60:00Z", "2024-01-02T03:04:61Z",
                          "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05Q", "2024-01-02T03:04:05+",
                          "2024-01-02T3:04:05Z", "2024-01-02T03:04:05+02:", "2024-01-02T03:04:05+2",
                          "2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05+02:60", "2024-01-02T03:04:05Z ",
                          "2024-01-02X03:04:05", "2024/01/02", "abcd-ef-gh"}) {
        CAPTURE(s);
        CHECK_FALSE(iso(s));
    }
    CHECK(iso("2024-02-29T00:00:00Z"));  // leap year
    CHECK(iso("2000-02-29T00:00:00Z"));  // divisible by 400
}

TEST_CASE("time: common log format with offsets") {
    CHECK(t::parse_clf("10/Oct/2000:13:55:36 -0700") == *iso("2000-10-10T20:55:36Z"));
    CHECK(t::parse_clf("02/Jan/2024:03:04:05 +0000") == base);
    CHECK(t::parse_clf("02/Jan/2024:03:04:05") == base);
    CHECK(t::parse_clf("02/Jan/2024:05:34:05 +0230") == base);
    for (const char* s : {"10/Foo/2000:13:55:36 -0700", "31/Feb/2000:13:55:36 -0700", "10/Oct/2000:25:55:36 -0700",
                          "10/Oct/2000:13:55:36 0700", "10/Oct/2000:13:55:36 -07", "10/Oct/2000:13:55:36 -0700x",
                          "10/oct/2000:13:55:36 -0700", "10/Oct/2000 13:55:36 -0700"}) {
        CAPTURE(s);
        CHECK_FALSE(t::parse_clf(s));
    }
}

TEST_CASE("time: epoch seconds and milliseconds, decided by magnitude") {
    CHECK(t::parse_epoch("1704164645") == base);
    CHECK(t::parse_epoch("1704164645.5") == base + 500);
    CHECK(t::parse_epoch("1704164645.123999") == base + 123);
    CHECK(t::parse_epoch("1704164645000") == base);
    CHECK(t::parse_epoch("0") == 0);
    CHECK(t::parse_epoch("-1") == -1000);
    CHECK(t::parse_epoch("-1.5") == -1500);  // the fraction has the sign of the whole
    for (const char* s : {"", "abc", "12a", "1.2.3", "1.", "+5", " 5", "99999999999999999999",
                          "-9223372036854775808"}) {
        CAPTURE(s);
        CHECK_FALSE(t::parse_epoch(s));
    }
}

TEST_CASE("time: durations") {
    CHECK(t::parse_duration("90s") == 90'000);
    CHECK(t::parse_duration("15m") == 900'000);
    CHECK(t::parse_duration("36h") == 36 * 3'600'000LL);
    CHECK(t::parse_duration("7d") == 7 * 86'400'000LL);
    CHECK(t::parse_duration("2w") == 14 * 86'400'000LL);
    for (const char* s : {"", "h", "5", "5y", "-5h", "5 h", "99999999999999999w"}) {
        CAPTURE(s);
        CHECK_FALSE(t::parse_duration(s));
    }
}

TEST_CASE("time: RFC 3339 output with milliseconds, before 1970, leap days and far years") {
    CHECK(t::rfc3339(0) == "1970-01-01T00:00:00.000Z");
    CHECK(t::rfc3339(base + 7) == "2024-01-02T03:04:05.007Z");
    CHECK(t::rfc3339(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(t::rfc3339(*iso("2024-02-29T23:59:59.999Z")) == "2024-02-29T23:59:59.999Z");
    CHECK(t::rfc3339(*iso("0000-01-01T00:00:00Z")) == "0000-01-01T00:00:00.000Z");
    CHECK(t::rfc3339(*iso("9999-12-31T23:59:59.999Z")) == "9999-12-31T23:59:59.999Z");
    // Outside 0000..9999 RFC 3339 has no form; ISO 8601's expanded years keep the text
    // readable and ordered instead of printing garbage digits.
    CHECK(t::rfc3339(*iso("0000-01-01T00:00:00Z") - 1) == "-0001-12-31T23:59:59.999Z");
    CHECK(t::rfc3339(*iso("9999-12-31T23:59:59.999Z") + 1) == "+10000-01-01T00:00:00.000Z");
}

TEST_CASE("time: civil date conversion round-trips across eras") {
    for (int64_t days = -800000; days <= 800000; days += 997) {
        int64_t y;
        unsigned m, d;
        t::civil_from_days(days, y, m, d);
        CHECK(t::days_from_civil(y, m, d) == days);
    }
    CHECK(t::days_from_civil(1970, 1, 1) == 0);
    CHECK(t::days_from_civil(2000, 3, 1) == 11017);
}
