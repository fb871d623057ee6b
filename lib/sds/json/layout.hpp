#pragma once
// A document whose members all come from a fixed list of dotted paths known when the program is
// built (a format's layout): the fast sibling of doc_builder for formats with a hot path.
//
// Each path is a node with its parent and its `"key":` text prepared once, when the layout is
// made; a parser names nodes by index (layout::id("a.b") is resolved at compile time), so
// setting a field costs no hashing, no path walk and no key copy. Values are views: into the
// parsed record (which outlives the document) or, for text the parser composes, into the
// document's own arena (the *_copy setters). The output is the same as doc_builder's for the
// same calls: members appear in the order they were first set (a parent when its first member
// was), a member set again keeps its place, strings are escaped on output (invalid UTF-8 becomes
// U+FFFD), arrays may drop repeated strings.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sds::json {

using layout_id = uint16_t;

// The index of `path` in `paths`, at compile time; a path not in the list does not compile.
template <size_t N>
consteval layout_id layout_index(const std::array<std::string_view, N>& paths, std::string_view path) {
    for (size_t i = 0; i < N; ++i)
        if (paths[i] == path) return static_cast<layout_id>(i);
    throw "path not in the layout";  // NOLINT: a compile-time error
}

class layout_doc {
public:
    // paths[0] is "" (the root); every path's parent ("a.b" for "a.b.c", "" for "a") must be
    // in `paths` too, before it. A path with members below it is an object and is never set
    // itself (unlike doc_builder, a layout does not turn a value into an object or back).
    explicit layout_doc(std::span<const std::string_view> paths);

    void clear() noexcept {
        if (++gen_ == 0) {  // wrapped: old generations could look current again
            for (auto& n : nodes_) n.gen = 0;
            gen_ = 1;
        }
        elems_.clear();
        arena_.clear();
        bound_ = 2;
        touch_root();
    }
    bool has(layout_id n) const noexcept { return nodes_[n].gen == gen_; }

    // `v` must stay valid until serialize(); the *_copy forms keep a copy.
    void set_string(layout_id n, std::string_view v) noexcept { put(n, kind::string, view(v)); }
    void set_string_copy(layout_id n, std::string_view v) { put(n, kind::string, store(v)); }
    void set_raw(layout_id n, std::string_view json) noexcept { put(n, kind::raw, view(json)); }
    // The text of the last *_copy, set again at another path (as a string, or as raw JSON).
    void set_string_last_copy(layout_id n) noexcept { put(n, kind::string, last_copy_); }
    void set_raw_last_copy(layout_id n) noexcept { put(n, kind::raw, last_copy_); }
    void set_bool(layout_id n, bool v) noexcept { put(n, kind::boolean, {}, v ? 1 : 0); }
    void set_int(layout_id n, int64_t v) noexcept { put(n, kind::int64, {}, v); }

    void push_string(layout_id n, std::string_view v, bool unique = false);
    void push_string_copy(layout_id n, std::string_view v);
    void push_raw_copy(layout_id n, std::string_view json);

    // Appends the document as compact JSON.
    void serialize(std::string& out) const;

private:
    enum class kind : uint8_t { object, array, string, raw, int64, boolean };
    // A value: a view, or (in_arena) an offset into arena_ (which may move while it grows).
    struct value {
        const char* ptr = nullptr;
        uint32_t len = 0;
        uint32_t in_arena = 0;
    };
    struct node {
        uint32_t gen = 0;
        int16_t parent = -1;
        int16_t first = -1, last = -1, next = -1;  // members (objects)
        int32_t first_elem = -1, last_elem = -1;   // elements (arrays), in elems_
        kind k = kind::object;
        uint32_t key_off = 0, key_len = 0;  // "key": in keys_
        value v;
        int64_t num = 0;
    };
    struct elem {
        value v;
        kind k = kind::string;
        int32_t next = -1;
    };

    void touch_root() noexcept {
        node& r = nodes_[0];
        r.gen = gen_;
        r.first = r.last = -1;
    }
    // Makes n present (and its parents), appending it to its parent's members when new.
    void touch(layout_id n) noexcept {
        if (nodes_[n].gen != gen_) attach(n);
    }
    void attach(layout_id n) noexcept {
        node& x = nodes_[n];
        x.gen = gen_;
        x.first = x.last = x.next = -1;
        x.first_elem = x.last_elem = -1;
        bound_ += x.key_len + 3;  // "key": {} ,
        layout_id p = static_cast<layout_id>(x.parent);
        touch(p);
        node& pn = nodes_[p];
        if (pn.last >= 0) nodes_[pn.last].next = static_cast<int16_t>(n);
        else pn.first = static_cast<int16_t>(n);
        pn.last = static_cast<int16_t>(n);
    }
    value store(std::string_view s) {
        value v{reinterpret_cast<const char*>(arena_.size()), static_cast<uint32_t>(s.size()), 1};
        arena_.append(s);
        last_copy_ = v;
        return v;
    }
    value view(std::string_view s) const noexcept { return {s.data(), static_cast<uint32_t>(s.size()), 0}; }
    void put(layout_id n, kind k, value v, int64_t num = 0) noexcept {
        touch(n);
        bound_ += 6 * size_t(v.len) + 24;  // escaped (at worst 6 bytes a byte), or a number
        node& x = nodes_[n];
        x.k = k;
        x.v = v;
        x.num = num;
    }
    void push(layout_id n, kind k, value v);
    std::string_view text(const value& v) const noexcept {
        return v.in_arena ? std::string_view(arena_.data() + reinterpret_cast<uintptr_t>(v.ptr), v.len)
                          : std::string_view(v.ptr, v.len);
    }
    char* write(char* d, const node& n) const noexcept;

    std::vector<node> nodes_;  // [0] is the root
    std::string keys_;
    std::vector<elem> elems_;
    std::string arena_;
    value last_copy_;
    uint32_t gen_ = 1;
    size_t bound_ = 2;  // the most serialize() can write
    mutable std::unique_ptr<char[]> out_;  // written here, then appended in one piece
    mutable size_t out_cap_ = 0;
};

}  // namespace sds::json
