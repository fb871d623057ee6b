#pragma once
// JSON string escaping and UTF-8 validation, appended into caller-owned buffers.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sds::json {

// Appends `s` as a JSON string literal (with quotes). Control characters, '"' and '\\' are
// escaped; bytes >= 0x80 are copied as they are (the caller guarantees valid UTF-8, see
// valid_utf8, or uses append_string_lossy).
void append_string(std::string& out, std::string_view s);

// As append_string, but invalid UTF-8 sequences become U+FFFD instead of being copied.
void append_string_lossy(std::string& out, std::string_view s);

// As append_string_lossy, into a raw buffer with room for 6 * s.size() + 2 bytes (the worst
// case: every byte a control character); returns the end of what was written.
char* write_string_lossy(char* out, std::string_view s) noexcept;

// Copies n bytes; short copies (most keys and values) inline, with overlapping word moves that
// read and write nothing outside the n bytes, instead of a call to memcpy.
inline char* copy_bytes(char* d, const char* s, size_t n) noexcept {
    if (n >= 16) {
        if (n > 32) {
            std::memcpy(d, s, n);
            return d + n;
        }
        char a[16], b[16];
        std::memcpy(a, s, 16);
        std::memcpy(b, s + n - 16, 16);
        std::memcpy(d, a, 16);
        std::memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        std::memcpy(&a, s, 8);
        std::memcpy(&b, s + n - 8, 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        std::memcpy(&a, s, 4);
        std::memcpy(&b, s + n - 4, 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; ++i) d[i] = s[i];
    }
    return d + n;
}

// Escapes the body only (no quotes).
void append_escaped(std::string& out, std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

// Appends an integer / a double (shortest round-trip form, no exponent for common values).
void append_int(std::string& out, long long v);
void append_uint(std::string& out, unsigned long long v);
void append_double(std::string& out, double v);

}  // namespace sds::json
