#include "sds/json/escape.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#define SDS_ESCAPE_SSE2 1
#else
#define SDS_ESCAPE_SSE2 0
#endif

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

// Index of the first byte in [p, end) that is a control character, '"', '\\' or (with
// stop_high) >= 0x80; end - p when there is none. 16 bytes at a time with SSE2 (always there on
// x86-64): a record's strings are mostly plain ASCII, so whole runs are found in a few steps and
// then copied with one append instead of being looked at byte by byte. The last partial block
// is read as the string's last 16 bytes; nothing outside [p, end) is read.
template <bool stop_high>
inline size_t find_special(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned char* const begin = p;
#if SDS_ESCAPE_SSE2
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i below_space = _mm_set1_epi8(0x1F);
    auto mask_of = [&](__m128i v) {
        __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        if constexpr (stop_high) {
            // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too.
            special = _mm_or_si128(special, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        } else {
            special = _mm_or_si128(special, _mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v));
        }
        return static_cast<unsigned>(_mm_movemask_epi8(special));
    };
    if (end - p < 16) {
        // Short: byte by byte (a block copied into a local would stall the load after it).
        for (; p != end; ++p)
            if (needs_escape.v[*p] || (stop_high && *p >= 0x80)) break;
        return static_cast<size_t>(p - begin);
    }
    while (end - p >= 16) {
        unsigned m = mask_of(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        if (m) return static_cast<size_t>(p - begin) + static_cast<size_t>(__builtin_ctz(m));
        p += 16;
    }
    if (p != end) {
        // The last 16 bytes of the string, overlapping what was checked: only the new ones count.
        const auto rest = static_cast<unsigned>(end - p);
        unsigned m = mask_of(_mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16))) >> (16 - rest);
        if (m) return static_cast<size_t>(p - begin) + static_cast<size_t>(__builtin_ctz(m));
    }
    return static_cast<size_t>(end - begin);
#else
    for (; p != end; ++p)
        if (needs_escape.v[*p] || (stop_high && *p >= 0x80)) break;
    return static_cast<size_t>(p - begin);
#endif
}

}  // namespace

void append_escaped(std::string& out, std::string_view s) {
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    auto* end = p + s.size();
    while (true) {
        size_t n = find_special<false>(p, end);
        out.append(reinterpret_cast<const char*>(p), n);
        p += n;
        if (p == end) return;
        append_escape(out, *p++);
    }
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
    const unsigned char* run = p;  // start of the bytes still to copy as they are
    while (true) {
        p += find_special<true>(p, end);
        if (p == end) break;
        if (*p >= 0x80) {
            size_t n = utf8_seq_len(p, end);
            if (n != 0) {  // valid multi-byte character: part of the run
                p += n;
                continue;
            }
            out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
            out += "\xEF\xBF\xBD";
        } else {
            out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
            append_escape(out, *p);
        }
        run = ++p;
    }
    out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(end - run));
    out.push_back('"');
}

namespace {
// True when none of the 8 bytes is a control character, '"', '\\' or >= 0x80 (SWAR).
inline bool plain8(uint64_t x) noexcept {
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
    uint64_t below_space = (x - ones * 0x20) & ~x & highs;
    return !((below_space | has_zero(x ^ (ones * '"')) | has_zero(x ^ (ones * '\\')) | x) & highs);
}
inline uint64_t load_u64(const char* p) noexcept {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}
}  // namespace

char* write_string_lossy(char* d, std::string_view s) noexcept {
    // Most values are short plain ASCII: two overlapping word checks and one copy.
    if (s.size() >= 8 && s.size() <= 16 && plain8(load_u64(s.data())) &&
        plain8(load_u64(s.data() + s.size() - 8))) {
        *d = '"';
        d = copy_bytes(d + 1, s.data(), s.size());
        *d = '"';
        return d + 1;
    }
    *d++ = '"';
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    auto* end = p + s.size();
    const unsigned char* run = p;  // start of the bytes still to copy as they are
    auto flush = [&] {
        d = copy_bytes(d, reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    };
    while (true) {
        p += find_special<true>(p, end);
        if (p == end) break;
        if (*p >= 0x80) {
            size_t n = utf8_seq_len(p, end);
            if (n != 0) {  // valid multi-byte character: part of the run
                p += n;
                continue;
            }
            flush();
            std::memcpy(d, "\xEF\xBF\xBD", 3);
            d += 3;
        } else {
            flush();
            const unsigned char c = *p;
            *d++ = '\\';
            switch (c) {
                case '"': *d++ = '"'; break;
                case '\\': *d++ = '\\'; break;
                case '\n': *d++ = 'n'; break;
                case '\r': *d++ = 'r'; break;
                case '\t': *d++ = 't'; break;
                case '\b': *d++ = 'b'; break;
                case '\f': *d++ = 'f'; break;
                default: {
                    static constexpr char hex[] = "0123456789abcdef";
                    d[0] = 'u';
                    d[1] = '0';
                    d[2] = '0';
                    d[3] = hex[c >> 4];
                    d[4] = hex[c & 15];
                    d += 5;
                }
            }
        }
        run = ++p;
    }
    flush();
    *d++ = '"';
    return d;
}

bool valid_utf8(std::string_view s) noexcept {
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    auto* end = p + s.size();
    while (p != end) {
#if SDS_ESCAPE_SSE2
        // Fast path: 16 ASCII bytes at a time.
        while (end - p >= 16) {
            if (_mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))) break;
            p += 16;
        }
#endif
        // 8 ASCII bytes at a time.
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
