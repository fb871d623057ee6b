#include "sds/io/line_splitter.hpp"

#include <cstring>

namespace sds::io {

namespace {
constexpr size_t prefix_keep = 1024;
}

line_splitter::line_splitter(line_handler& handler, size_t max_bytes)
    : h_(handler), max_(max_bytes) {}

status line_splitter::emit(std::string_view line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_) return h_.on_oversize(line_no_, line.size(), line.substr(0, prefix_keep));
    return h_.on_line(line, line_no_);
}

// Keeps the first prefix_keep bytes of a line being skipped, whatever its chunking.
void line_splitter::keep_prefix(const char* p, size_t n) {
    if (n == 0) return;
    last_ = p[n - 1];
    if (carry_.size() < prefix_keep) carry_.append(p, std::min(n, prefix_keep - carry_.size()));
}

// Reports the skipped line: its size without a trailing '\r' (as emit() counts it) and its
// first bytes.
status line_splitter::report_skipped() {
    skipping_ = false;
    ++line_no_;
    uint64_t bytes = skipped_bytes_ - (last_ == '\r' ? 1 : 0);
    auto pre = carry_.view().substr(0, std::min<uint64_t>(prefix_keep, bytes));
    status s = h_.on_oversize(line_no_, bytes, pre);
    carry_.clear();
    return s;
}

status line_splitter::consume(std::string_view chunk) {
    const char* p = chunk.data();
    const char* end = p + chunk.size();
    // Finish the line carried over from earlier chunks.
    if (skipping_ || !carry_.empty()) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        size_t take = static_cast<size_t>((nl ? nl : end) - p);
        if (skipping_) {
            skipped_bytes_ += take;
            keep_prefix(p, take);
        } else if (carry_.size() + take > max_ + 1) {  // +1: a trailing '\r' is not content
            skipping_ = true;
            skipped_bytes_ = carry_.size() + take;
            last_ = carry_.view().back();
            keep_prefix(p, take);
        } else {
            carry_.append(p, take);
        }
        if (!nl) return status::success();
        p = nl + 1;
        if (skipping_) {
            if (auto s = report_skipped(); !s) return s;
        } else {
            status s = emit(carry_.view());
            carry_.clear();
            if (!s) return s;
        }
    }
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        if (!nl) break;
        if (auto s = emit({p, static_cast<size_t>(nl - p)}); !s) return s;
        p = nl + 1;
    }
    if (p < end) {
        size_t rest = static_cast<size_t>(end - p);
        if (rest > max_ + 1) {
            skipping_ = true;
            skipped_bytes_ = rest;
            keep_prefix(p, rest);  // never more than the chunk holds
        } else {
            carry_.append(p, rest);
        }
    }
    return status::success();
}

status line_splitter::finish() {
    if (skipping_) return report_skipped();
    if (!carry_.empty()) {
        status s = emit(carry_.view());
        carry_.clear();
        return s;
    }
    return status::success();
}

}  // namespace sds::io
