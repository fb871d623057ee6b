#include "sds/aws/credentials.hpp"

#include <cstdio>
#include <ctime>

namespace sds::aws {

std::string credentials::redacted() const {
    std::string key = access_key_id.size() > 8
                          ? access_key_id.substr(0, 4) + "…" + access_key_id.substr(access_key_id.size() - 4)
                          : std::string(access_key_id.empty() ? "(no key id)" : "****");
    std::string out = key + " (secret " + (secret_access_key.empty() ? "none" : "****");
    if (!session_token.empty()) out += ", session token ****";
    if (expiration) out += ", expires " + format_iso8601(*expiration);
    if (!source.empty()) out += ", from " + source;
    return out + ")";
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (text.size() < 19) return std::nullopt;
    std::string head(text.substr(0, 19));
    char t = 0;
    if (std::sscanf(head.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &h, &mi, &s) != 7) return std::nullopt;
    if ((t != 'T' && t != 't' && t != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return std::nullopt;
    std::string_view rest = text.substr(19);
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
    }
    if (!(rest.empty() || rest == "Z" || rest == "z" || rest == "+00:00" || rest == "+0000")) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string format_iso8601(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

credentials_provider::credentials_provider(credentials_source source, std::optional<credentials> initial,
                                           std::chrono::seconds margin, clock_fn clock)
    : source_(std::move(source)), cached_(std::move(initial)), margin_(margin), clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

expected<credentials> credentials_provider::get() {
    std::lock_guard lock(mutex_);
    const auto now = clock_();
    if (cached_ && (!cached_->expiration || *cached_->expiration - now > margin_)) return *cached_;
    auto fresh = source_.fetch();
    if (fresh) {
        cached_ = *fresh;
        return std::move(*fresh);
    }
    // Refresh failed: old credentials still do while they have not expired.
    if (cached_ && cached_->expiration && *cached_->expiration > now) return *cached_;
    return fresh.err();
}

}  // namespace sds::aws
