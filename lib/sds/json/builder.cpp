#include "sds/json/builder.hpp"

#include "sds/json/escape.hpp"

#include <algorithm>
#include <cstring>

namespace sds::json {

void doc_builder::clear() {
    nodes_.clear();
    arena_.clear();
    nodes_.push_back(node{});  // root object
    if (slots_.empty()) slots_.resize(256);
    indexed_ = 0;
    last_parent_ = -1;
    if (++gen_ == 0) {  // wrapped: old generations could look current again
        std::fill(slots_.begin(), slots_.end(), slot{});
        gen_ = 1;
    }
}

uint32_t doc_builder::store(std::string_view s) {
    auto off = static_cast<uint32_t>(arena_.size());
    arena_.append(s);
    return off;
}

namespace {
inline uint64_t load8(const char* p) noexcept {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}
inline uint64_t load4(const char* p) noexcept {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}
inline uint64_t mix(uint64_t h) noexcept {
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 29);
}
}  // namespace

uint32_t doc_builder::path_hash(std::string_view path) noexcept {
    // Paths are short ("aws.cloudtrail.user_identity.arn"): 8 bytes a step, the last 1-8 bytes
    // read with overlapping loads (no byte loop), multiply-mix.
    const char* p = path.data();
    size_t n = path.size();
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    while (n > 8) {
        h = mix(h ^ load8(p));
        p += 8;
        n -= 8;
    }
    uint64_t w;
    if (n >= 4) w = load4(p) | (load4(p + n - 4) << 32);
    else if (n > 0) w = static_cast<unsigned char>(p[0]) | (uint64_t(static_cast<unsigned char>(p[n / 2])) << 8) |
                        (uint64_t(static_cast<unsigned char>(p[n - 1])) << 16);
    else w = 0;
    h = mix(h ^ w);
    h ^= h >> 32;
    return static_cast<uint32_t>(h);
}

int32_t doc_builder::find(std::string_view path, uint32_t h) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const slot& s = slots_[i];
        if (s.gen != gen_) return -1;
        if (s.hash != h) continue;
        const node& n = nodes_[s.node];
        if (n.k != kind::removed && text(n.path_off, n.path_len) == path) return s.node;
    }
}

void doc_builder::index(int32_t n, uint32_t h) {
    if ((indexed_ + 1) * 2 > slots_.size()) grow_index();
    const size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].gen == gen_) i = (i + 1) & mask;
    slots_[i] = slot{gen_, h, n};
    ++indexed_;
}

void doc_builder::grow_index() {
    std::vector<slot> old(slots_.size() * 2);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const slot& s : old) {
        if (s.gen != gen_) continue;
        size_t i = s.hash & mask;
        while (slots_[i].gen == gen_) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

int32_t doc_builder::add_member(int32_t parent, std::string_view path, size_t key_len, kind k, uint32_t h) {
    // A key that needs no escaping (nearly all are) is also kept ready to write: "key":
    std::string_view key = path.substr(path.size() - key_len);
    bool plain = true;
    for (char ch : key) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
            plain = false;
            break;
        }
    }
    // The path, then "key": when plain, stored with one size change.
    const size_t off = arena_.size();
    arena_.resize(off + path.size() + (plain ? key_len + 3 : 0));
    char* d = arena_.data() + off;
    std::memcpy(d, path.data(), path.size());
    node& n = nodes_.emplace_back();
    n.path_off = static_cast<uint32_t>(off);
    n.path_len = static_cast<uint32_t>(path.size());
    n.key_off = n.path_off + n.path_len - static_cast<uint32_t>(key_len);
    n.key_len = static_cast<uint32_t>(key_len);
    if (plain) {
        d += path.size();
        *d = '"';
        std::memcpy(d + 1, key.data(), key_len);
        d[key_len + 1] = '"';
        d[key_len + 2] = ':';
        n.quoted_off = static_cast<uint32_t>(off + path.size());
        n.quoted_len = static_cast<uint32_t>(key_len + 3);
    }
    n.k = k;
    auto idx = static_cast<int32_t>(nodes_.size() - 1);
    node& p = nodes_[parent];
    if (p.last >= 0) nodes_[p.last].next = idx;
    else p.first = idx;
    p.last = idx;
    index(idx, h);
    return idx;
}

int32_t doc_builder::add_element(int32_t array, kind k) {
    node n;
    n.k = k;
    auto idx = static_cast<int32_t>(nodes_.size());
    nodes_.push_back(n);
    node& p = nodes_[array];
    if (p.last >= 0) nodes_[p.last].next = idx;
    else p.first = idx;
    p.last = idx;
    return idx;
}

// The members of n are being thrown away (n becomes a scalar, a fresh object or is removed):
// they must no longer be found through the index, nor anything below them.
void doc_builder::drop_children(int32_t n) {
    for (int32_t c = nodes_[n].first; c >= 0; c = nodes_[c].next) {
        drop_children(c);
        nodes_[c].k = kind::removed;
    }
    nodes_[n].first = nodes_[n].last = -1;
}

// Nodes are indexed by their whole dotted path, so a path already set costs one hash and one
// compare, and a new one walks up only as far as its nearest existing ancestor.
int32_t doc_builder::lookup(std::string_view path) const { return find(path, path_hash(path)); }

int32_t doc_builder::make_path(std::string_view path, kind leaf_kind) {
    const uint32_t h = path_hash(path);
    if (int32_t n = find(path, h); n >= 0) return n;
    size_t dot = path.rfind('.');
    int32_t parent = 0;
    if (dot != std::string_view::npos) {
        std::string_view prefix = path.substr(0, dot);
        // Fields are mostly set family by family (aws.cloudtrail.user_identity.type, .arn, ...):
        // the parent of the last new path is very often this one's too.
        if (last_parent_ >= 0 && nodes_[last_parent_].k == kind::object &&
            std::string_view(last_parent_path_) == prefix)
            return add_member(last_parent_, path, path.size() - dot - 1, leaf_kind, h);
        parent = make_path(prefix, kind::object);
        last_parent_ = parent;
        last_parent_path_.assign(prefix);
        if (nodes_[parent].k != kind::object) {
            // A scalar is in the way of a deeper path: it becomes an object.
            drop_children(parent);
            nodes_[parent].k = kind::object;
        }
    }
    size_t key_len = dot == std::string_view::npos ? path.size() : path.size() - dot - 1;
    return add_member(parent, path, key_len, leaf_kind, h);
}

void doc_builder::set_leaf(int32_t n, kind k) {
    if (nodes_[n].first >= 0) drop_children(n);
    nodes_[n].k = k;
}

void doc_builder::set_string(std::string_view path, std::string_view v) {
    int32_t n = make_path(path, kind::string);
    auto off = store(v);
    set_leaf(n, kind::string);
    nodes_[n].val_off = off;
    nodes_[n].val_len = static_cast<uint32_t>(v.size());
}
void doc_builder::set_raw(std::string_view path, std::string_view v) {
    int32_t n = make_path(path, kind::raw);
    auto off = store(v);
    set_leaf(n, kind::raw);
    nodes_[n].val_off = off;
    nodes_[n].val_len = static_cast<uint32_t>(v.size());
}
void doc_builder::set_int(std::string_view path, int64_t v) {
    int32_t n = make_path(path, kind::int64);
    set_leaf(n, kind::int64);
    nodes_[n].num.i = v;
}
void doc_builder::set_uint(std::string_view path, uint64_t v) {
    int32_t n = make_path(path, kind::uint64);
    set_leaf(n, kind::uint64);
    nodes_[n].num.u = v;
}
void doc_builder::set_double(std::string_view path, double v) {
    int32_t n = make_path(path, kind::dbl);
    set_leaf(n, kind::dbl);
    nodes_[n].num.d = v;
}
void doc_builder::set_bool(std::string_view path, bool v) {
    int32_t n = make_path(path, kind::boolean);
    set_leaf(n, kind::boolean);
    nodes_[n].num.i = v ? 1 : 0;
}
void doc_builder::set_null(std::string_view path) { set_leaf(make_path(path, kind::null), kind::null); }
void doc_builder::set_object(std::string_view path) {
    int32_t n = make_path(path, kind::object);
    if (nodes_[n].k != kind::object) set_leaf(n, kind::object);
}

void doc_builder::push_string(std::string_view path, std::string_view v, bool unique) {
    int32_t a = make_path(path, kind::array);
    if (nodes_[a].k != kind::array) set_leaf(a, kind::array);
    if (unique) {
        for (int32_t c = nodes_[a].first; c >= 0; c = nodes_[c].next)
            if (nodes_[c].k == kind::string && text(nodes_[c].val_off, nodes_[c].val_len) == v) return;
    }
    int32_t n = add_element(a, kind::string);
    nodes_[n].val_off = store(v);
    nodes_[n].val_len = static_cast<uint32_t>(v.size());
}
void doc_builder::push_raw(std::string_view path, std::string_view v) {
    int32_t a = make_path(path, kind::array);
    if (nodes_[a].k != kind::array) set_leaf(a, kind::array);
    int32_t n = add_element(a, kind::raw);
    nodes_[n].val_off = store(v);
    nodes_[n].val_len = static_cast<uint32_t>(v.size());
}
void doc_builder::push_int(std::string_view path, int64_t v) {
    int32_t a = make_path(path, kind::array);
    if (nodes_[a].k != kind::array) set_leaf(a, kind::array);
    int32_t n = add_element(a, kind::int64);
    nodes_[n].num.i = v;
}

bool doc_builder::has(std::string_view path) const { return lookup(path) >= 0; }

std::optional<std::string_view> doc_builder::get_string(std::string_view path) const {
    int32_t n = lookup(path);
    if (n < 0 || nodes_[n].k != kind::string) return std::nullopt;
    return text(nodes_[n].val_off, nodes_[n].val_len);
}

void doc_builder::remove(std::string_view path) {
    int32_t n = lookup(path);
    if (n < 0) return;
    drop_children(n);
    nodes_[n].k = kind::removed;
}

void doc_builder::write(std::string& out, int32_t idx) const {
    const node& n = nodes_[idx];
    switch (n.k) {
        case kind::object:
        case kind::array: {
            bool obj = n.k == kind::object;
            out.push_back(obj ? '{' : '[');
            bool first = true;
            for (int32_t c = n.first; c >= 0; c = nodes_[c].next) {
                const node& ch = nodes_[c];
                if (ch.k == kind::removed) continue;
                if (!first) out.push_back(',');
                first = false;
                if (obj) {
                    if (ch.quoted_len) {
                        out.append(arena_.data() + ch.quoted_off, ch.quoted_len);
                    } else {
                        append_string_lossy(out, text(ch.key_off, ch.key_len));
                        out.push_back(':');
                    }
                }
                write(out, c);
            }
            out.push_back(obj ? '}' : ']');
            return;
        }
        case kind::string: append_string_lossy(out, text(n.val_off, n.val_len)); return;
        case kind::raw: out.append(text(n.val_off, n.val_len)); return;
        case kind::int64: append_int(out, n.num.i); return;
        case kind::uint64: append_uint(out, n.num.u); return;
        case kind::dbl: append_double(out, n.num.d); return;
        case kind::boolean: out += n.num.i ? "true" : "false"; return;
        case kind::null: out += "null"; return;
        case kind::removed: return;
    }
}

void doc_builder::serialize(std::string& out) const {
    // Room for the whole document up front (text as stored plus punctuation and numbers), so
    // the appends below do not grow the buffer piecemeal.
    out.reserve(out.size() + arena_.size() + 24 * nodes_.size());
    write(out, 0);
}

}  // namespace sds::json
