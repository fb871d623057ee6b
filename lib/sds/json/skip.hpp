#pragma once
// Skipping over the text of valid JSON: whitespace, a string, a whole value. Used where a
// record's text is copied around members without parsing it again (json::patch, the scoring
// writer). The input must be valid JSON (the reader parsed it); on anything else they stop at
// the end of the text, never past it.
#include <emmintrin.h>

#include <cstddef>
#include <string_view>

namespace sds::json {

inline bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline size_t skip_ws(std::string_view s, size_t i) noexcept {
    while (i < s.size() && is_ws(s[i])) ++i;
    return i;
}

// s[i] == '"': the index past the closing quote.
inline size_t skip_string(std::string_view s, size_t i) noexcept {
    ++i;
    // 16 bytes at a time while they lie inside the text: the first quote or backslash.
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (i + 16 <= s.size()) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        auto hits = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
        if (hits == 0) {
            i += 16;
            continue;
        }
        i += static_cast<size_t>(__builtin_ctz(hits));
        if (s[i] == '"') return i + 1;
        i += 2;  // an escape: the backslash and the character it escapes
    }
    while (i < s.size()) {
        char c = s[i];
        if (c == '"') return i + 1;
        i += c == '\\' ? 2 : 1;
    }
    return s.size();
}

// The index past the value starting at i.
inline size_t skip_value(std::string_view s, size_t i) noexcept {
    if (i >= s.size()) return i;
    char c = s[i];
    if (c == '"') return skip_string(s, i);
    if (c == '{' || c == '[') {
        int depth = 0;
        while (i < s.size()) {
            char d = s[i];
            if (d == '"') {
                i = skip_string(s, i);
                continue;
            }
            if (d == '{' || d == '[') ++depth;
            else if ((d == '}' || d == ']') && --depth == 0) return i + 1;
            ++i;
        }
        return i;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
    return i;
}

}  // namespace sds::json
