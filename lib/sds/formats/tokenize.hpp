#pragma once
// Small helpers shared by the text format parsers: a cursor over space-separated fields where
// a field may be "double-quoted" (with spaces and backslash escapes inside), number parsing
// with from_chars, and "ip:port" splitting. Everything returns string_views into the line.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sds/core/time.hpp"
#include "sds/json/builder.hpp"

namespace sds::formats::text {

struct field {
    std::string_view value;  // without the quotes
    bool quoted = false;
};

// Reads fields left to right. A quoted field ends at the first unescaped '"' that is followed
// by a space or the end of the line; an unterminated quote makes the cursor fail.
class cursor {
public:
    explicit cursor(std::string_view line) : rest_(line) {}

    bool done() const noexcept { return rest_.empty(); }
    std::string_view rest() const noexcept { return rest_; }

    // Next field (quoted or bare); nullopt at the end of the line or on an unterminated quote.
    std::optional<field> next() {
        while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
        if (rest_.empty()) return std::nullopt;
        if (rest_.front() == '"') {
            for (size_t i = 1; i < rest_.size(); ++i) {
                char c = rest_[i];
                if (c == '\\') {
                    ++i;
                    continue;
                }
                if (c == '"' && (i + 1 == rest_.size() || rest_[i + 1] == ' ')) {
                    field f{rest_.substr(1, i - 1), true};
                    rest_.remove_prefix(i + 1);
                    return f;
                }
            }
            return std::nullopt;
        }
        size_t sp = rest_.find(' ');
        field f{rest_.substr(0, sp), false};
        rest_.remove_prefix(sp == std::string_view::npos ? rest_.size() : sp);
        return f;
    }
    // Next bare (space-delimited) token, quotes not interpreted.
    std::optional<std::string_view> word() {
        while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
        if (rest_.empty()) return std::nullopt;
        size_t sp = rest_.find(' ');
        std::string_view w = rest_.substr(0, sp);
        rest_.remove_prefix(sp == std::string_view::npos ? rest_.size() : sp);
        return w;
    }

private:
    std::string_view rest_;
};

template <class T>
inline std::optional<T> to_int(std::string_view s) {
    T v{};
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

inline std::optional<double> to_double(std::string_view s) {
    double v = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "host:port" split at the last ':' (so "2001:db8::1:443" and "[2001:db8::1]:443" work).
struct host_port {
    std::string_view host, port;
};
inline std::optional<host_port> split_host_port(std::string_view s) {
    size_t c = s.rfind(':');
    if (c == std::string_view::npos || c == 0 || c + 1 == s.size()) return std::nullopt;
    std::string_view h = s.substr(0, c);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    return host_port{h, s.substr(c + 1)};
}

// Formats t as RFC 3339 ms into a per-thread scratch string (no allocation once warm).
inline std::string_view rfc3339(time::millis t) {
    thread_local std::string buf;
    buf.clear();
    time::append_rfc3339(buf, t);
    return buf;
}

// Sets path to the RFC 3339 form of t.
inline void set_time(json::doc_builder& doc, std::string_view path, time::millis t) { doc.set_string(path, rfc3339(t)); }

// Splits s on sep and pushes each non-empty part to the array at path.
inline void push_split(json::doc_builder& doc, std::string_view path, std::string_view s, char sep) {
    while (!s.empty()) {
        size_t p = s.find(sep);
        std::string_view part = s.substr(0, p);
        if (!part.empty()) doc.push_string(path, part);
        if (p == std::string_view::npos) break;
        s.remove_prefix(p + 1);
    }
}

// "TLSv1.2" / "tlsv12" / "TLSv1_3" → tls.version "1.2" and tls.version_protocol "tls".
void set_tls_version(json::doc_builder& doc, std::string_view protocol);

// Splits an absolute or relative URL into ECS url.* fields (url.original set by the caller).
// Returns false when it is not a URL we can take apart (nothing set then). host_out, when
// given, receives the host (a view into url).
bool set_url_parts(json::doc_builder& doc, std::string_view url, std::string_view* host_out = nullptr);

}  // namespace sds::formats::text
