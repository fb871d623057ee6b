#pragma once
// Adds or replaces fields in an existing JSON object without re-serialising what it does not
// touch: untouched members are copied byte-for-byte, only the objects on the way to an edited
// path are rebuilt around them. Used by sds-enrich (source.geo, threat.enrichments) and
// sds-score (sds.anomaly) on every record, so it works on the text in one pass.
#include <string>
#include <string_view>
#include <vector>

namespace sds::json {

class patch {
public:
    void clear() {
        edits_.clear();
        arena_.clear();
    }
    bool empty() const noexcept { return edits_.empty(); }

    // Sets `path` (dotted: nested objects) to a serialised JSON value, replacing any value there.
    void set_raw(std::string_view path, std::string_view json);
    void set_string(std::string_view path, std::string_view v);
    // Appends a value to the array at `path` (created when absent; a non-array is replaced).
    void append_raw(std::string_view path, std::string_view json);

    // Writes `record` (a valid JSON object) with the edits applied, appending to `out`.
    void apply(std::string_view record, std::string& out) const;

private:
    enum class op { set, append };
    struct edit {
        size_t path_off, path_len, val_off, val_len;
        op kind;
    };
    struct pending {
        std::string_view path;  // remaining path
        std::string_view value;
        op kind;
    };
    void add(std::string_view path, std::string_view json, op kind);
    void apply_object(std::string_view obj, std::vector<pending>& edits, std::string& out) const;
    void build_new(std::vector<pending>& edits, std::string& out) const;
    void write_value(std::string_view base, std::vector<pending>& deeper,
                     const std::vector<std::string_view>& appended, std::string& out) const;

    std::vector<edit> edits_;
    std::string arena_;
};

}  // namespace sds::json
