#include "sds/json/layout.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "sds/json/escape.hpp"

namespace sds::json {

layout_doc::layout_doc(std::span<const std::string_view> paths) {
    if (paths.empty() || !paths[0].empty()) throw std::logic_error("layout: paths[0] must be the root (\"\")");
    if (paths.size() > 32767) throw std::logic_error("layout: too many paths");
    nodes_.resize(paths.size());
    for (size_t i = 1; i < paths.size(); ++i) {
        std::string_view path = paths[i];
        size_t dot = path.rfind('.');
        std::string_view parent = dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
        std::string_view key = dot == std::string_view::npos ? path : path.substr(dot + 1);
        size_t p = 0;
        while (p < i && paths[p] != parent) ++p;
        if (p == i) throw std::logic_error("layout: the parent of " + std::string(path) + " is not listed before it");
        node& n = nodes_[i];
        n.parent = static_cast<int16_t>(p);
        n.key_off = static_cast<uint32_t>(keys_.size());
        append_string(keys_, key);
        keys_.push_back(':');
        n.key_len = static_cast<uint32_t>(keys_.size()) - n.key_off;
    }
    clear();
}

void layout_doc::push(layout_id n, kind k, value v) {
    touch(n);
    node& a = nodes_[n];
    a.k = kind::array;
    auto idx = static_cast<int32_t>(elems_.size());
    elems_.push_back(elem{v, k, -1});
    bound_ += 6 * size_t(v.len) + 3;
    if (a.last_elem >= 0) elems_[static_cast<size_t>(a.last_elem)].next = idx;
    else a.first_elem = idx;
    a.last_elem = idx;
}

void layout_doc::push_string(layout_id n, std::string_view v, bool unique) {
    const node& a = nodes_[n];
    if (unique && a.gen == gen_) {
        for (int32_t e = a.first_elem; e >= 0; e = elems_[static_cast<size_t>(e)].next) {
            const elem& x = elems_[static_cast<size_t>(e)];
            if (x.k == kind::string && text(x.v) == v) return;
        }
    }
    push(n, kind::string, view(v));
}

void layout_doc::push_string_copy(layout_id n, std::string_view v) { push(n, kind::string, store(v)); }

void layout_doc::push_raw_copy(layout_id n, std::string_view json) { push(n, kind::raw, store(json)); }

char* layout_doc::write(char* d, const node& n) const noexcept {
    switch (n.k) {
        case kind::object: {
            *d++ = '{';
            for (int16_t c = n.first; c >= 0;) {
                const node& ch = nodes_[static_cast<size_t>(c)];
                d = write(copy_bytes(d, keys_.data() + ch.key_off, ch.key_len), ch);
                c = ch.next;
                if (c >= 0) *d++ = ',';
            }
            *d++ = '}';
            return d;
        }
        case kind::array: {
            *d++ = '[';
            for (int32_t e = n.first_elem; e >= 0;) {
                const elem& x = elems_[static_cast<size_t>(e)];
                std::string_view t = text(x.v);
                if (x.k == kind::string) {
                    d = write_string_lossy(d, t);
                } else {
                    d = copy_bytes(d, t.data(), t.size());
                }
                e = x.next;
                if (e >= 0) *d++ = ',';
            }
            *d++ = ']';
            return d;
        }
        case kind::string: return write_string_lossy(d, text(n.v));
        case kind::raw: {
            std::string_view t = text(n.v);
            return copy_bytes(d, t.data(), t.size());
        }
        case kind::int64: {
            auto r = std::to_chars(d, d + 24, n.num);
            return r.ptr;
        }
        case kind::boolean: {
            if (n.num) {
                std::memcpy(d, "true", 4);
                return d + 4;
            }
            std::memcpy(d, "false", 5);
            return d + 5;
        }
    }
    return d;
}

void layout_doc::serialize(std::string& out) const {
    if (out_cap_ < bound_) {
        out_cap_ = std::max(bound_, 2 * out_cap_);
        out_.reset(new char[out_cap_]);
    }
    char* end = write(out_.get(), nodes_[0]);
    out.append(out_.get(), static_cast<size_t>(end - out_.get()));
    // The bound assumes every byte escapes to six: a huge record's buffer is not kept for the
    // small ones after it (memory stays flat).
    if (out_cap_ > (size_t(1) << 23)) {
        out_.reset();
        out_cap_ = 0;
    }
}

}  // namespace sds::json
