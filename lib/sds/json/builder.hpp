#pragma once
// Builds new JSON documents from dotted paths: set("source.ip", …) and set("source.port", …)
// end up in one nested "source" object, in first-set order. Storage is reused across
// documents (clear() keeps capacity), so building a record per input costs no allocation once
// warm. Members are found through a hash index of their whole dotted path, so setting a
// field costs one hash and one compare, not a walk through every level. Strings are escaped on output; invalid UTF-8 becomes U+FFFD.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sds::json {

class doc_builder {
public:
    doc_builder() { clear(); }
    void clear();

    void set_string(std::string_view path, std::string_view v);
    void set_int(std::string_view path, int64_t v);
    void set_uint(std::string_view path, uint64_t v);
    void set_double(std::string_view path, double v);
    void set_bool(std::string_view path, bool v);
    void set_null(std::string_view path);
    // A pre-serialised JSON value (the caller guarantees it is valid JSON).
    void set_raw(std::string_view path, std::string_view json);
    // Ensures an (empty) object exists at path.
    void set_object(std::string_view path);

    // Appends to the array at `path` (created on first use). With unique, an equal string
    // already present is not added again (related.ip and friends).
    void push_string(std::string_view path, std::string_view v, bool unique = false);
    void push_raw(std::string_view path, std::string_view json);
    void push_int(std::string_view path, int64_t v);

    bool has(std::string_view path) const;
    std::optional<std::string_view> get_string(std::string_view path) const;
    void remove(std::string_view path);

    // Appends the document as compact JSON.
    void serialize(std::string& out) const;
    std::string str() const {
        std::string s;
        serialize(s);
        return s;
    }

private:
    enum class kind : uint8_t { object, array, string, raw, int64, uint64, dbl, boolean, null, removed };
    struct node {
        uint32_t path_off = 0, path_len = 0;  // the whole dotted path (members only)
        uint32_t key_off = 0, key_len = 0;    // its last segment
        uint32_t quoted_off = 0, quoted_len = 0;  // "key": ready to write (0: needs escaping)
        uint32_t val_off = 0, val_len = 0;
        union {
            int64_t i;
            uint64_t u;
            double d;
        } num{0};
        int32_t first = -1, last = -1, next = -1;
        kind k = kind::object;
    };
    // Index of object members by their whole dotted path: open addressing, linear probing. A slot is in
    // use when its generation is the current one, so clear() empties it by counting up.
    struct slot {
        uint32_t gen = 0;
        uint32_t hash = 0;
        int32_t node = -1;
    };
    int32_t lookup(std::string_view path) const;
    int32_t find(std::string_view path, uint32_t h) const;
    int32_t add_member(int32_t parent, std::string_view path, size_t key_len, kind k, uint32_t h);
    int32_t add_element(int32_t array, kind k);
    void drop_children(int32_t n);
    void index(int32_t n, uint32_t h);
    void grow_index();
    static uint32_t path_hash(std::string_view path) noexcept;
    int32_t make_path(std::string_view path, kind leaf_kind);
    void set_leaf(int32_t n, kind k);
    uint32_t store(std::string_view s);
    std::string_view text(uint32_t off, uint32_t len) const { return {arena_.data() + off, len}; }
    void write(std::string& out, int32_t n) const;

    std::vector<node> nodes_;
    std::string arena_;
    std::vector<slot> slots_;
    uint32_t gen_ = 0;
    uint32_t indexed_ = 0;  // slots in use
    // The object the last new member went into, and its path: the next one often goes there too.
    int32_t last_parent_ = -1;
    std::string last_parent_path_;
};

}  // namespace sds::json
