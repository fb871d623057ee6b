#include "sds/json/escape.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace sds::json {
namespace {

// 1 for bytes that need escaping inside a JSON string.
constexpr auto make_table() {
    struct table_t {
        unsigned char v[256]{};
    } t{};
    for (int i = 0; i < 0x20; ++i) t.v[i] = 1;
    t.v[static_cast<unsigned char>('"')] = 1;
    t.v[static_cast<unsigned char>('\\')] = 1;
    return t;
}
constexpr auto needs_escape = make_table();

void append_escape(std::string& out, unsigned char c) {
    switch (c) {
        case '"': out += "\\\""; return;
        case '\\': out += "\\\\"; return;
        case '\n': out += "\\n"; return;
        case '\r': out += "\\r"; return;
        case '\t': out += "\\t"; return;
        case '\b': out += "\\b"; return;
        case '\f': out += "\\f"; return;
        default: {
            static constexpr char hex[] = "0123456789abcdef";
            char buf[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            out.append(buf, 6);
        }
    }
}

// Length of the valid UTF-8 sequence starting at p (0 if invalid).
size_t utf8_seq_len(const unsigned char* p, const unsigned char* end) noexcept {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t avail = static_cast<size_t>(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
        if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
        if (c == 0xF4 && p[1] > 0x8F) return 0;  // > U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

void append_escaped(std::string& out, std::string_view s) {
    const char* p = s.data();
    const char* end = p + s.size();
    const char* run = p;
    while (p != end) {
        if (needs_escape.v[static_cast<unsigned char>(*p)]) {
            out.append(run, static_cast<size_t>(p - run));
            append_escape(out, static_cast<unsigned char>(*p));
            run = ++p;
        } else {
            ++p;
        }
    }
    out.append(run, static_cast<size_t>(end - run));
}

void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    append_escaped(out, s);
    out.push_back('"');
}

void append_string_lossy(std::string& out, std::string_view s) {
    out.push_back('"');
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    auto* end = p + s.size();
    const unsigned char* run = p;
    while (p != end) {
        if (*p < 0x80) {
            if (needs_escape.v[*p]) {
                append_escaped(out, {reinterpret_cast<const char*>(run), static_cast<size_t>(p - run)});
                append_escape(out, *p);
                run = ++p;
            } else {
                ++p;
            }
            continue;
        }
        size_t n = utf8_seq_len(p, end);
        if (n == 0) {
            append_escaped(out, {reinterpret_cast<const char*>(run), static_cast<size_t>(p - run)});
            out += "\xEF\xBF\xBD";
            run = ++p;
        } else {
            p += n;
        }
    }
    append_escaped(out, {reinterpret_cast<const char*>(run), static_cast<size_t>(end - run)});
    out.push_back('"');
}

bool valid_utf8(std::string_view s) noexcept {
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    auto* end = p + s.size();
    while (p != end) {
        // Fast path: 8 ASCII bytes at a time.
        while (end - p >= 8) {
            unsigned long long w;
            std::memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL) break;
            p += 8;
        }
        if (p == end) break;
        if (*p < 0x80) {
            ++p;
            continue;
        }
        size_t n = utf8_seq_len(p, end);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

void append_int(std::string& out, long long v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_uint(std::string& out, unsigned long long v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_double(std::string& out, double v) {
    if (!std::isfinite(v)) {  // JSON has no NaN/Inf
        out += "null";
        return;
    }
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        append_int(out, static_cast<long long>(v));
        return;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

}  // namespace sds::json
