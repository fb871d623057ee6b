#include "sds/fetch/framer.hpp"

#include <fmt/format.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace sds::fetch {

namespace {
constexpr size_t prefix_keep = 1024;
inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The next byte at or after i that matters inside a string: '"', '\\' or a raw newline.
inline size_t scan_in_string(const char* p, size_t i, size_t n) {
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), nl = _mm_set1_epi8('\n');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        int m = _mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)), _mm_cmpeq_epi8(v, nl)));
        if (m) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
        i += 16;
    }
#endif
    while (i < n && p[i] != '"' && p[i] != '\\' && p[i] != '\n') ++i;
    return i;
}

// The next byte at or after i that matters outside strings: a quote, a bracket or a newline.
inline size_t scan_structure(const char* p, size_t i, size_t n) {
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), nl = _mm_set1_epi8('\n'), lo = _mm_set1_epi8(0x20),
                  open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        __m128i f = _mm_or_si128(v, lo);  // '[' ']' fold onto '{' '}'
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, nl)),
                                               _mm_or_si128(_mm_cmpeq_epi8(f, open), _mm_cmpeq_epi8(f, close))));
        if (m) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
        i += 16;
    }
#endif
    while (i < n) {
        char c = p[i];
        if (c == '"' || c == '\n' || c == '{' || c == '}' || c == '[' || c == ']') break;
        ++i;
    }
    return i;
}
}  // namespace

json_framer::json_framer(framer_handler& h, size_t max_bytes) : h_(h), max_(max_bytes) {}

void json_framer::collect(const char* chunk, size_t start, size_t end) {
    size_t n = end - start;
    value_bytes_ += n;
    if (!oversize_ && value_bytes_ > max_) oversize_ = true;
    if (oversize_) keep_prefix(chunk, start, end);
    else carry_.append(chunk + start, n);
}

// Keeps the first prefix_keep bytes of an oversize value, whatever its chunking.
void json_framer::keep_prefix(const char* chunk, size_t start, size_t end) {
    if (carry_.size() < prefix_keep && end > start)
        carry_.append(chunk + start, std::min(end - start, prefix_keep - carry_.size()));
}

status json_framer::complete(const char* chunk, size_t start, size_t end, bool element) {
    std::string_view text;
    uint64_t total = value_bytes_ + (end - start);
    if (oversize_ || total > max_) {
        keep_prefix(chunk, start, end);
        auto s = h_.on_bad(fmt::format("record of {} bytes exceeds --max-record-bytes (first bytes kept)", total),
                           value_line_, carry_.view().substr(0, prefix_keep));
        carry_.clear();
        oversize_ = false;
        value_bytes_ = 0;
        return s;
    }
    if (carry_.empty()) {
        text = {chunk + start, end - start};
    } else {
        carry_.append(chunk + start, end - start);
        text = carry_.view();
    }
    auto s = h_.on_value(text, value_line_, element, has_nl_);
    carry_.clear();
    value_bytes_ = 0;
    return s;
}

// Reports the text from the start of the current value up to chunk[end] as bad: whole (so it
// can be replayed from the dead letter) unless it is oversize, then its first bytes. Trailing
// whitespace (the '\r' of a CRLF line end) is not part of it, wherever the chunks were cut.
status json_framer::bad(std::string_view reason, const char* chunk, size_t start, size_t end) {
    std::string_view text;
    if (oversize_ || value_bytes_ + (end - start) > max_) {
        keep_prefix(chunk, start, end);
        text = carry_.view().substr(0, prefix_keep);
    } else if (carry_.empty()) {
        text = end > start ? std::string_view(chunk + start, end - start) : std::string_view();
    } else {
        carry_.append(chunk + start, end - start);
        text = carry_.view();
    }
    while (!text.empty() && is_ws(text.back())) text.remove_suffix(1);
    auto s = h_.on_bad(reason, value_line_, text);
    carry_.clear();
    oversize_ = false;
    value_bytes_ = 0;
    return s;
}

status json_framer::consume(std::string_view chunk_view) {
    const char* p = chunk_view.data();
    const size_t n = chunk_view.size();
    size_t start = (mode_ == mode::value || mode_ == mode::element || mode_ == mode::scalar || mode_ == mode::garbage)
                       ? 0
                       : SIZE_MAX;
    for (size_t i = 0; i < n; ++i) {
        char c = p[i];
        switch (mode_) {
            case mode::top:
                if (c == '\n') {
                    ++line_;
                } else if (is_ws(c)) {
                } else if (c == '{') {
                    mode_ = mode::value;
                    start = i;
                    depth_ = 1;
                    in_str_ = esc_ = has_nl_ = false;
                    value_line_ = line_;
                    sniff_ = 1;
                } else if (c == '[' && line_mode_) {
                    // In a line-oriented stream a bracketed line is one (non-object) record.
                    mode_ = mode::value;
                    start = i;
                    depth_ = 1;
                    in_str_ = esc_ = has_nl_ = false;
                    value_line_ = line_;
                    sniff_ = 0;
                } else if (c == '[') {
                    mode_ = mode::elements;
                    depth_ = 1;
                    elements_depth_ = 1;
                    wrapper_ = false;
                    in_str_ = esc_ = false;
                } else {
                    mode_ = mode::garbage;
                    start = i;
                    value_line_ = line_;
                }
                break;

            case mode::garbage:
                if (c == '\n') {
                    if (auto s = bad("not a JSON object", p, start, i); !s) return s;
                    ++line_;
                    mode_ = mode::top;
                    start = SIZE_MAX;
                }
                break;

            case mode::elements:
                if (c == '\n') {
                    ++line_;
                } else if (is_ws(c) || c == ',') {
                } else if (c == ']') {
                    --depth_;
                    mode_ = wrapper_ ? mode::tail : mode::top;
                } else {
                    start = i;
                    value_line_ = line_;
                    has_nl_ = false;
                    if (c == '{' || c == '[') {
                        mode_ = mode::element;
                        ++depth_;
                    } else {
                        mode_ = mode::scalar;
                        in_str_ = (c == '"');
                        esc_ = false;
                    }
                }
                break;

            case mode::scalar:
                if (in_str_) {
                    if (esc_) esc_ = false;
                    else if (c == '\\') esc_ = true;
                    else if (c == '"') in_str_ = false;
                    else if (c == '\n') ++line_;
                } else if (c == ',' || c == ']') {
                    if (auto s = bad("not a JSON object", p, start, i); !s) return s;
                    start = SIZE_MAX;
                    if (c == ']') {
                        --depth_;
                        mode_ = wrapper_ ? mode::tail : mode::top;
                    } else {
                        mode_ = mode::elements;
                    }
                } else if (c == '\n') {
                    ++line_;
                }
                break;

            case mode::tail:
                if (in_str_) {
                    if (esc_) esc_ = false;
                    else if (c == '\\') esc_ = true;
                    else if (c == '"') in_str_ = false;
                } else if (c == '"') {
                    in_str_ = true;
                } else if (c == '{' || c == '[') {
                    ++depth_;
                } else if (c == '}' || c == ']') {
                    if (--depth_ == 0) mode_ = mode::top;
                } else if (c == '\n') {
                    ++line_;
                }
                break;

            case mode::value:
            case mode::element: {
                if (sniff_ == 0 && !esc_) {
                    // Fast path: jump to the next byte that can change the state.
                    size_t j = in_str_ ? scan_in_string(p, i, n) : scan_structure(p, i, n);
                    if (j >= n) {
                        i = n;
                        break;
                    }
                    i = j;
                    c = p[i];
                }
                if (in_str_) {
                    // Fast scan to the next interesting byte.
                    while (i < n) {
                        c = p[i];
                        if (esc_) {
                            esc_ = false;
                        } else if (c == '\\') {
                            esc_ = true;
                            // An escaped key is never taken for "Records" (Recor\"ds is not).
                            if (sniff_ == 2) key_.push_back('\\');
                        } else if (c == '"') {
                            in_str_ = false;
                            if (sniff_ == 2) sniff_ = 3;
                            break;
                        } else if (c == '\n') {
                            break;
                        } else if (sniff_ == 2 && key_.size() < 16) {
                            key_.push_back(c);
                        }
                        ++i;
                    }
                    if (i == n) break;
                    if (c != '\n') break;
                    // A raw newline inside a string: never valid JSON.
                    ++line_;
                    has_nl_ = true;
                    if (mode_ == mode::value && line_mode_) {
                        if (auto s = bad("invalid JSON (record ends inside a string at end of line)", p, start, i); !s)
                            return s;
                        mode_ = mode::top;
                        start = SIZE_MAX;
                        in_str_ = false;
                        sniff_ = 0;
                    }
                    break;
                }
                switch (c) {
                    case '"':
                        in_str_ = true;
                        esc_ = false;
                        if (sniff_ == 1 && depth_ == 1) {
                            sniff_ = 2;
                            key_.clear();
                        } else if (sniff_ != 2) {
                            sniff_ = 0;
                        }
                        break;
                    case ':':
                        sniff_ = (sniff_ == 3) ? 4 : 0;
                        break;
                    case '{':
                    case '[':
                        ++depth_;
                        if (sniff_ == 4 && c == '[' && key_ == "Records" && mode_ == mode::value) {
                            // CloudTrail wrapper: stream the array's elements.
                            mode_ = mode::elements;
                            elements_depth_ = depth_;
                            wrapper_ = true;
                            carry_.clear();
                            oversize_ = false;
                            value_bytes_ = 0;
                            start = SIZE_MAX;
                        }
                        sniff_ = 0;
                        break;
                    case '}':
                    case ']': {
                        --depth_;
                        sniff_ = 0;
                        bool done = (mode_ == mode::value) ? depth_ == 0 : depth_ == elements_depth_;
                        if (done) {
                            bool element = mode_ == mode::element;
                            if (!element && !line_mode_known_) {
                                line_mode_known_ = true;
                                line_mode_ = !has_nl_;
                            }
                            if (auto s = complete(p, start, i + 1, element); !s) return s;
                            start = SIZE_MAX;
                            mode_ = element ? mode::elements : mode::top;
                        }
                        break;
                    }
                    case '\n':
                        ++line_;
                        has_nl_ = true;
                        if (mode_ == mode::value && line_mode_) {
                            if (auto s = bad("invalid JSON (record not closed at end of line)", p, start, i); !s)
                                return s;
                            mode_ = mode::top;
                            start = SIZE_MAX;
                            sniff_ = 0;
                        }
                        break;
                    case ' ':
                    case '\t':
                    case '\r':
                    case ',':
                        if (c == ',') sniff_ = 0;
                        break;
                    default:
                        sniff_ = 0;
                        break;
                }
                break;
            }
        }
    }
    if (start != SIZE_MAX &&
        (mode_ == mode::value || mode_ == mode::element || mode_ == mode::scalar || mode_ == mode::garbage))
        collect(p, start, n);
    return status::success();
}

status json_framer::finish() {
    switch (mode_) {
        case mode::top: return status::success();
        case mode::garbage:
            mode_ = mode::top;
            return bad("not a JSON object", nullptr, 0, 0);
        case mode::value:
        case mode::element:
        case mode::scalar: {
            mode_ = mode::top;
            return bad("truncated record (unexpected end of input)", nullptr, 0, 0);
        }
        case mode::elements:
        case mode::tail:
            mode_ = mode::top;
            return h_.on_bad("truncated file (JSON array not closed at end of input)", line_, {});
    }
    return status::success();
}

void compact(std::string_view s, std::string& out) {
    bool in_str = false, esc = false;
    for (char c : s) {
        if (in_str) {
            out.push_back(c);
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
            out.push_back(c);
        } else if (!is_ws(c)) {
            out.push_back(c);
        }
    }
}

}  // namespace sds::fetch
