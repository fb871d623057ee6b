#pragma once
// JSON string escaping and UTF-8 validation, appended into caller-owned buffers.
#include <cstddef>
#include <string>
#include <string_view>

namespace sds::json {

// Appends `s` as a JSON string literal (with quotes). Control characters, '"' and '\\' are
// escaped; bytes >= 0x80 are copied as they are (the caller guarantees valid UTF-8, see
// valid_utf8, or uses append_string_lossy).
void append_string(std::string& out, std::string_view s);

// As append_string, but invalid UTF-8 sequences become U+FFFD instead of being copied.
void append_string_lossy(std::string& out, std::string_view s);

// Escapes the body only (no quotes).
void append_escaped(std::string& out, std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

// Appends an integer / a double (shortest round-trip form, no exponent for common values).
void append_int(std::string& out, long long v);
void append_uint(std::string& out, unsigned long long v);
void append_double(std::string& out, double v);

}  // namespace sds::json
