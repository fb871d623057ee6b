#include "sds/core/time.hpp"

#include <charconv>
#include <cstdint>
#include <chrono>

namespace sds::time {

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
    if (pos + n > s.size()) return false;
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        char c = s[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

int month_from_abbrev(std::string_view m) {
    static constexpr std::string_view names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (m == names[i]) return i + 1;
    return 0;
}

bool valid_date(int64_t y, int64_t mo, int64_t d) {
    if (mo < 1 || mo > 12 || d < 1) return false;
    static constexpr int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int md = mdays[mo - 1];
    if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) md = 29;
    return d <= md;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) noexcept {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

std::optional<millis> parse_iso8601(std::string_view s) {
    int64_t y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d))
        return std::nullopt;
    if (!valid_date(y, mo, d)) return std::nullopt;
    size_t i = 10;
    int64_t ms = 0;
    int64_t offset_min = 0;
    if (i < s.size()) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
        ++i;
        if (!digits(s, i, 2, h) || i + 2 >= s.size() || s[i + 2] != ':' || !digits(s, i + 3, 2, mi))
            return std::nullopt;
        i += 5;
        if (i < s.size() && s[i] == ':') {
            if (!digits(s, i + 1, 2, sec)) return std::nullopt;
            i += 3;
        }
        if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
        if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
            ++i;
            int n = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                if (n < 3) ms = ms * 10 + (s[i] - '0');
                ++n;
                ++i;
            }
            if (n == 0) return std::nullopt;
            for (int k = n; k < 3; ++k) ms *= 10;
        }
        if (i < s.size()) {
            char z = s[i];
            if (z == 'Z' || z == 'z') {
                ++i;
            } else if (z == '+' || z == '-') {
                int64_t oh, om = 0;
                if (!digits(s, i + 1, 2, oh)) return std::nullopt;
                size_t j = i + 3;
                bool colon = j < s.size() && s[j] == ':';
                if (colon) ++j;
                if (j < s.size() || colon) {  // "+hh:" needs its minutes
                    if (!digits(s, j, 2, om)) return std::nullopt;
                    j += 2;
                }
                if (oh > 23 || om > 59) return std::nullopt;
                offset_min = (oh * 60 + om) * (z == '+' ? 1 : -1);
                i = j;
            } else {
                return std::nullopt;
            }
        }
        if (i != s.size()) return std::nullopt;
    }
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    return secs * 1000 + ms;
}

std::optional<millis> parse_epoch(std::string_view s) {
    // The range every consumer (Elasticsearch, JavaScript dates) can hold: +-100,000,000 days.
    constexpr int64_t max_ms = 8'640'000'000'000'000LL;
    if (s.empty()) return std::nullopt;
    size_t dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    int64_t v = 0;
    auto r = std::from_chars(whole.data(), whole.data() + whole.size(), v);
    if (r.ec != std::errc() || r.ptr != whole.data() + whole.size()) return std::nullopt;
    int64_t frac_ms = 0;
    if (dot != std::string_view::npos) {
        std::string_view f = s.substr(dot + 1);
        if (f.empty()) return std::nullopt;
        int n = 0;
        for (char c : f) {
            if (c < '0' || c > '9') return std::nullopt;
            if (n < 3) frac_ms = frac_ms * 10 + (c - '0');
            ++n;
        }
        for (int k = n; k < 3; ++k) frac_ms *= 10;
    }
    if (v > max_ms || v < -max_ms) return std::nullopt;
    // Values above ~year 5138 in seconds are taken as milliseconds.
    if (v > 100'000'000'000LL || v < -100'000'000'000LL) return v;
    // The fraction has the sign of the whole ("-1.5" is -1500 ms).
    return v * 1000 + (whole.front() == '-' ? -frac_ms : frac_ms);
}

std::optional<millis> parse_clf(std::string_view s) {
    // 10/Oct/2000:13:55:36 -0700
    int64_t d, y, h, mi, sec;
    if (s.size() < 20 || !digits(s, 0, 2, d) || s[2] != '/' || s[6] != '/' || !digits(s, 7, 4, y) ||
        s[11] != ':' || !digits(s, 12, 2, h) || s[14] != ':' || !digits(s, 15, 2, mi) || s[17] != ':' ||
        !digits(s, 18, 2, sec))
        return std::nullopt;
    int mo = month_from_abbrev(s.substr(3, 3));
    if (!mo || !valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    int64_t offset_min = 0;
    size_t i = 20;
    if (i < s.size()) {
        if (s[i] != ' ' || i + 5 >= s.size() + 0 || (s[i + 1] != '+' && s[i + 1] != '-')) return std::nullopt;
        int64_t oh, om;
        if (!digits(s, i + 2, 2, oh) || !digits(s, i + 4, 2, om)) return std::nullopt;
        offset_min = (oh * 60 + om) * (s[i + 1] == '+' ? 1 : -1);
        if (i + 6 != s.size()) return std::nullopt;
    }
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return (days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000;
}

std::optional<millis> parse_duration(std::string_view s) {
    if (s.size() < 2) return std::nullopt;
    int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size() - 1, v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() - 1 || v < 0) return std::nullopt;
    int64_t unit = 0;
    switch (s.back()) {
        case 's': unit = 1000; break;
        case 'm': unit = 60'000; break;
        case 'h': unit = 3'600'000; break;
        case 'd': unit = 86'400'000; break;
        case 'w': unit = 7 * 86'400'000LL; break;
        default: return std::nullopt;
    }
    if (v > INT64_MAX / unit) return std::nullopt;  // would overflow
    return v * unit;
}

void append_rfc3339(std::string& out, millis t) {
    // Floor division without overflow, for instants before 1970 too.
    int64_t secs = t / 1000, ms = t % 1000;
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char buf[48];
    char* p = buf;
    auto put = [&](uint64_t v, int w) {
        char tmp[24];
        int n = 0;
        do {
            tmp[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (n < w) tmp[n++] = '0';
        while (n) *p++ = tmp[--n];
    };
    // RFC 3339 years are 0000..9999; beyond them, ISO 8601's expanded form (-0001, +10000).
    if (y < 0) *p++ = '-';
    else if (y > 9999) *p++ = '+';
    put(static_cast<uint64_t>(y < 0 ? -y : y), 4);
    *p++ = '-';
    put(m, 2);
    *p++ = '-';
    put(d, 2);
    *p++ = 'T';
    put(static_cast<uint64_t>(rem / 3600), 2);
    *p++ = ':';
    put(static_cast<uint64_t>(rem / 60 % 60), 2);
    *p++ = ':';
    put(static_cast<uint64_t>(rem % 60), 2);
    *p++ = '.';
    put(static_cast<uint64_t>(ms), 3);
    *p++ = 'Z';
    out.append(buf, static_cast<size_t>(p - buf));
}

std::string rfc3339(millis t) {
    std::string s;
    append_rfc3339(s, t);
    return s;
}

millis now() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace sds::time
