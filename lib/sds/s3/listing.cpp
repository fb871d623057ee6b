#include "sds/s3/listing.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sds::s3 {
namespace {

constexpr time::millis hour_ms = 3600'000;
constexpr time::millis day_ms = 24 * hour_ms;

std::optional<unsigned> digits(std::string_view s, size_t n) {
    if (s.size() != n) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + unsigned(c - '0');
    }
    return v;
}

time::millis day_start(int64_t y, unsigned m, unsigned d) { return time::days_from_civil(y, m, d) * day_ms; }

}  // namespace

expected<time::millis> parse_time_arg(std::string_view text, time::millis now) {
    if (auto d = time::parse_duration(text)) return now - *d;
    if (auto t = time::parse_iso8601(text)) return *t;
    if (text.size() == 10) {  // a bare date: midnight UTC
        if (auto t = time::parse_iso8601(std::string(text) + "T00:00:00Z")) return *t;
    }
    return make_error(exit_code::usage,
                      fmt::format("invalid time: {} (want a duration such as 2h or 7d, or an RFC 3339 time)", text));
}

std::optional<partition> partition_of(std::string_view path) {
    auto last = path.rfind('/');
    if (last == std::string_view::npos) return std::nullopt;
    std::string_view dir = path.substr(0, last);
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start <= dir.size()) {
        size_t end = dir.find('/', start);
        if (end == std::string_view::npos) end = dir.size();
        parts.push_back(dir.substr(start, end - start));
        start = end + 1;
    }
    for (size_t i = 0; i < parts.size(); ++i) {
        auto y = digits(parts[i], 4);
        if (!y || *y < 1970 || *y > 2999) continue;
        std::optional<unsigned> m, d, h;
        if (i + 1 < parts.size()) {
            m = digits(parts[i + 1], 2);
            if (!m || *m < 1 || *m > 12) continue;  // a year must be followed by a month, or end the path
        }
        if (m && i + 2 < parts.size()) {
            d = digits(parts[i + 2], 2);
            if (d && (*d < 1 || *d > 31)) d.reset();
        }
        if (d && i + 3 < parts.size()) {
            h = digits(parts[i + 3], 2);
            if (h && *h > 23) h.reset();
        }
        partition p;
        if (!m) {
            p = {day_start(*y, 1, 1), day_start(*y + 1, 1, 1), 1};
        } else if (!d) {
            p = {day_start(*y, *m, 1), *m == 12 ? day_start(*y + 1, 1, 1) : day_start(*y, *m + 1, 1), 2};
        } else if (!h) {
            p.begin = day_start(*y, *m, *d);
            p = {p.begin, p.begin + day_ms, 3};
        } else {
            p.begin = day_start(*y, *m, *d) + *h * hour_ms;
            p = {p.begin, p.begin + hour_ms, 4};
        }
        return p;
    }
    return std::nullopt;
}

namespace {

struct walker {
    client& c;
    const listing_request& req;
    std::vector<object>& out;

    bool keep(const object& o) const {
        if (!req.range.bounded()) return true;
        auto p = partition_of(o.key);
        return !p || req.range.overlaps(p->begin, p->end);
    }

    status flat(const std::string& prefix) {
        std::string token;
        do {
            auto page = c.list_page_of(req.bucket, prefix, "", token);
            if (!page) return page.err();
            for (auto& o : page->objects)
                if (keep(o)) out.push_back(std::move(o));
            token = page->next_token;
        } while (!token.empty());
        return status::success();
    }

    status walk(const std::string& prefix, int depth) {
        if (!req.range.bounded() || depth >= req.max_depth) return flat(prefix);
        if (auto p = partition_of(prefix + "x"); p && p->level >= 3 && req.range.contains(p->begin, p->end))
            return flat(prefix);  // a whole day (or hour) in range: nothing left to prune below
        std::string token;
        do {
            auto page = c.list_page_of(req.bucket, prefix, "/", token);
            if (!page) return page.err();
            for (auto& o : page->objects)
                if (keep(o)) out.push_back(std::move(o));
            for (const auto& sub : page->prefixes) {
                if (auto p = partition_of(sub + "x"); p && !req.range.overlaps(p->begin, p->end)) continue;
                if (sub.size() >= 18 && sub.compare(sub.size() - 18, 18, "CloudTrail-Digest/") == 0) continue;
                if (auto st = walk(sub, depth + 1); !st) return st;
            }
            token = page->next_token;
        } while (!token.empty());
        return status::success();
    }
};

}  // namespace

expected<std::vector<object>> list_objects(client& c, const listing_request& req) {
    std::vector<object> out;
    walker w{c, req, out};
    if (auto st = w.walk(req.prefix, 0); !st) return st.err();
    std::sort(out.begin(), out.end(), [](const object& a, const object& b) { return a.key < b.key; });
    return out;
}

}  // namespace sds::s3
