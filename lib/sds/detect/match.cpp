#include "sds/detect/match.hpp"

namespace sds::detect {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

namespace {
bool ifind(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return true;
    if (needle.size() > hay.size()) return false;
    const char first = needle[0];
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        if (lower(hay[i]) != first) continue;
        size_t k = 1;
        while (k < needle.size() && lower(hay[i + k]) == needle[k]) ++k;
        if (k == needle.size()) return true;
    }
    return false;
}
bool istarts(std::string_view v, std::string_view p) {
    if (p.size() > v.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
        if (lower(v[i]) != p[i]) return false;
    return true;
}
bool iends(std::string_view v, std::string_view p) {
    if (p.size() > v.size()) return false;
    size_t off = v.size() - p.size();
    for (size_t i = 0; i < p.size(); ++i)
        if (lower(v[off + i]) != p[i]) return false;
    return true;
}
}  // namespace

pattern pattern::compile(std::string_view text, bool lead, bool trail) {
    pattern p;
    if (lead) p.toks_.push_back({0, 1});
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '*' || text[i + 1] == '?' || text[i + 1] == '\\')) {
            p.toks_.push_back({lower(text[i + 1]), 0});
            ++i;
        } else if (c == '*') {
            if (p.toks_.empty() || p.toks_.back().op != 1) p.toks_.push_back({0, 1});
        } else if (c == '?') {
            p.toks_.push_back({0, 2});
        } else {
            p.toks_.push_back({lower(c), 0});
        }
    }
    if (trail && (p.toks_.empty() || p.toks_.back().op != 1)) p.toks_.push_back({0, 1});
    // Classify: literal body with stars only at the ends gets a fast path.
    size_t n = p.toks_.size();
    bool star_front = n && p.toks_[0].op == 1, star_back = n && p.toks_[n - 1].op == 1;
    size_t b = star_front ? 1 : 0, e = (star_back && n > b) ? n - 1 : n;
    bool plain = true;
    for (size_t i = b; i < e; ++i)
        if (p.toks_[i].op != 0) plain = false;
    if (plain) {
        for (size_t i = b; i < e; ++i) p.lit_.push_back(p.toks_[i].c);
        p.kind_ = star_front && star_back ? kind::contains : star_front ? kind::suffix : star_back ? kind::prefix : kind::exact;
    } else {
        p.kind_ = kind::glob;
    }
    return p;
}

bool pattern::matches(std::string_view v) const {
    switch (kind_) {
        case kind::exact: return v.size() == lit_.size() && istarts(v, lit_);
        case kind::prefix: return istarts(v, lit_);
        case kind::suffix: return iends(v, lit_);
        case kind::contains: return ifind(v, lit_);
        case kind::glob: break;
    }
    // Iterative wildcard match with backtracking to the last star.
    size_t ti = 0, vi = 0, star = SIZE_MAX, mark = 0;
    while (vi < v.size()) {
        if (ti < toks_.size() && (toks_[ti].op == 2 || (toks_[ti].op == 0 && toks_[ti].c == lower(v[vi])))) {
            ++ti;
            ++vi;
        } else if (ti < toks_.size() && toks_[ti].op == 1) {
            star = ti++;
            mark = vi;
        } else if (star != SIZE_MAX) {
            ti = star + 1;
            vi = ++mark;
        } else {
            return false;
        }
    }
    while (ti < toks_.size() && toks_[ti].op == 1) ++ti;
    return ti == toks_.size();
}

}  // namespace sds::detect
