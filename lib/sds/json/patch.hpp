#pragma once
// Adds or replaces fields in an existing JSON object without re-serialising what it does not
// touch: untouched members are copied byte-for-byte, only the objects on the way to an edited
// path are rebuilt around them. Used by sds-enrich (source.geo, threat.enrichments) and
// sds-score (sds.anomaly, alerts) on every record, so it works on the text in one pass.
//
// No per-record heap churn: the edits live in one arena and one vector that keep their
// capacity across clear(), values can be formatted straight into the arena (set_with), and
// apply() works on index ranges of reused scratch vectors. After the first few records a fixed
// edit set allocates nothing.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sds::json {

class patch {
public:
    void clear() noexcept {
        edits_.clear();
        arena_.clear();
    }
    bool empty() const noexcept { return edits_.empty(); }

    // Sets `path` (dotted: nested objects) to a serialised JSON value, replacing any value there.
    void set_raw(std::string_view path, std::string_view json);
    void set_string(std::string_view path, std::string_view v);
    // Sets `path` to the JSON value that `write(std::string&)` appends to the given buffer
    // (formatted in place: no temporary string).
    template <class F>
    void set_with(std::string_view path, F&& write) {
        size_t p = begin(path);
        write(arena_);
        end(p, path.size(), op::set);
    }
    // Sets the top-level `member`, which the caller knows neither the record has nor an earlier
    // edit touches (a new member): when every edit is one, apply() writes the record's text and
    // the new members after it without looking for them in the record.
    void set_new(std::string_view member, std::string_view json);
    template <class F>
    void set_new_with(std::string_view member, F&& write) {
        size_t p = begin(member);
        write(arena_);
        end(p, member.size(), op::set, true);
    }
    // Appends a value to the array at `path` (created when absent; a non-array is replaced).
    void append_raw(std::string_view path, std::string_view json);

    // True when an edit so far is at `member` or below it (member: a top-level name).
    bool touches(std::string_view member) const noexcept;

    // Writes `record` (a valid JSON object) with the edits applied, appending to `out`.
    void apply(std::string_view record, std::string& out) const;
    // The same, given the record's parsed form, which tells which edited top-level members the
    // record has: the text is scanned only up to the last of them and the rest copied as it is;
    // when it has none (sds.* and alert fields on a raw record) the new members follow the
    // record's text at once. Same JSON as apply(record, out); untouched text is copied as it is.
    void apply(std::string_view record, simdjson::dom::element doc, std::string& out) const;

private:
    enum class op : uint8_t { set, append };
    struct edit {
        uint32_t path_off, path_len, val_off, val_len;
        op kind;
        bool fresh;  // set_new(): a top-level member the record does not have
    };
    struct pending {
        std::string_view path;  // remaining path
        std::string_view value;
        uint32_t seg;           // length of the path's first segment
        uint64_t head;          // its first 8 bytes (zero-padded): most comparisons end here
        op kind;
        bool done;
    };
    size_t begin(std::string_view path);
    void end(size_t path_off, size_t path_len, op kind, bool fresh = false);
    void add(std::string_view path, std::string_view json, op kind);
    void load_pending() const;
    // Edits are stack_[lo, hi); groups push their deeper edits above hi and pop them after.
    // With stop_after > 0, once that many members were edited the rest is copied unscanned.
    void apply_object(std::string_view obj, size_t lo, size_t hi, std::string& out, size_t stop_after) const;
    void build_members(size_t lo, size_t hi, bool first, std::string& out) const;
    void write_value(std::string_view base, size_t d_lo, size_t d_hi, size_t a_lo, size_t a_hi,
                     std::string& out) const;
    // Collects the edits in [lo, hi) whose first segment is `key` (marking them done): the
    // set value (if any), appended values pushed on appended_, deeper edits pushed on stack_.
    bool collect(std::string_view key, size_t lo, size_t hi, std::string_view& set_value) const;

    std::vector<edit> edits_;
    std::string arena_;
    mutable std::vector<pending> stack_;
    mutable std::vector<std::string_view> appended_;
};

}  // namespace sds::json
