#include "sds/json/patch.hpp"

#include "sds/json/escape.hpp"

namespace sds::json {

namespace {

inline size_t skip_ws(std::string_view s, size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return i;
}

// s[i] == '"': returns the index after the closing quote.
inline size_t skip_string(std::string_view s, size_t i) {
    ++i;
    while (i < s.size()) {
        char c = s[i];
        if (c == '\\') i += 2;
        else if (c == '"') return i + 1;
        else ++i;
    }
    return s.size();
}

// Returns the index just past the value starting at i.
size_t skip_value(std::string_view s, size_t i) {
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
            else if (d == '}' || d == ']') {
                if (--depth == 0) return i + 1;
            }
            ++i;
        }
        return i;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' &&
           s[i] != '\t' && s[i] != '\r')
        ++i;
    return i;
}

std::string_view first_segment(std::string_view path) { return path.substr(0, path.find('.')); }

// Writes values as the elements of a new array.
void write_array(std::string& out, const std::vector<std::string_view>& values) {
    out.push_back('[');
    for (size_t k = 0; k < values.size(); ++k) {
        if (k) out.push_back(',');
        out.append(values[k]);
    }
    out.push_back(']');
}

}  // namespace

void patch::add(std::string_view path, std::string_view json, op kind) {
    edit e{arena_.size(), path.size(), 0, json.size(), kind};
    arena_.append(path);
    e.val_off = arena_.size();
    arena_.append(json);
    edits_.push_back(e);
}

void patch::set_raw(std::string_view path, std::string_view json) { add(path, json, op::set); }
void patch::append_raw(std::string_view path, std::string_view json) { add(path, json, op::append); }
void patch::set_string(std::string_view path, std::string_view v) {
    std::string tmp;
    append_string_lossy(tmp, v);
    add(path, tmp, op::set);
}

void patch::build_new(std::vector<pending>& edits, std::string& out) const {
    // edits: remaining paths relative to a new object; groups by first segment, in order.
    out.push_back('{');
    bool first_member = true;
    for (size_t i = 0; i < edits.size(); ++i) {
        if (edits[i].path.empty()) continue;  // consumed
        std::string_view seg = first_segment(edits[i].path);
        if (!first_member) out.push_back(',');
        first_member = false;
        append_string(out, seg);
        out.push_back(':');
        // Collect this group's leaf edits and deeper edits.
        std::vector<pending> deeper;
        std::string_view set_value;
        std::vector<std::string_view> appended;
        for (size_t j = i; j < edits.size(); ++j) {
            if (edits[j].path.empty() || first_segment(edits[j].path) != seg) continue;
            if (edits[j].path.size() == seg.size()) {
                if (edits[j].kind == op::set) {
                    set_value = edits[j].value;
                    appended.clear();
                    deeper.clear();
                } else {
                    appended.push_back(edits[j].value);
                }
            } else {
                deeper.push_back({edits[j].path.substr(seg.size() + 1), edits[j].value, edits[j].kind});
            }
            edits[j].path = {};
        }
        write_value(set_value, deeper, appended, out);
    }
    out.push_back('}');
}

// Writes the new value of one member: `base` (its current or newly set value, empty when it
// has none) with the deeper edits merged into it when it is an object, or the appended values
// added when it is an array; a base of another type is replaced. Used for existing members
// and new ones alike, so "set x, then set x.y / append to x" means the same in both.
void patch::write_value(std::string_view base, std::vector<pending>& deeper,
                        const std::vector<std::string_view>& appended, std::string& out) const {
    if (!deeper.empty()) {
        if (!base.empty() && base.front() == '{') apply_object(base, deeper, out);
        else build_new(deeper, out);
    } else if (!appended.empty()) {
        if (!base.empty() && base.front() == '[') {
            // Append before the closing bracket.
            size_t close = base.rfind(']');
            out.append(base.substr(0, close));
            bool empty_array = skip_ws(base, 1) == close;
            for (auto a : appended) {
                if (!empty_array) out.push_back(',');
                empty_array = false;
                out.append(a);
            }
            out.push_back(']');
        } else {
            write_array(out, appended);
        }
    } else {
        out.append(base.empty() ? std::string_view("null") : base);
    }
}

void patch::apply_object(std::string_view s, std::vector<pending>& edits, std::string& out) const {
    // s is the whole object text, starting with '{'.
    out.push_back('{');
    bool first_member = true;
    size_t i = skip_ws(s, 1);
    while (i < s.size() && s[i] == '"') {
        size_t key_start = i;
        size_t key_end = skip_string(s, i);
        std::string_view key = s.substr(key_start + 1, key_end - key_start - 2);
        size_t colon = skip_ws(s, key_end);
        size_t vstart = skip_ws(s, colon + 1);
        size_t vend = skip_value(s, vstart);
        std::string_view value = s.substr(vstart, vend - vstart);

        std::vector<pending> deeper;
        bool replaced = false;
        std::string_view set_value;
        std::vector<std::string_view> appended;
        for (auto& e : edits) {
            if (e.path.empty() || first_segment(e.path) != key) continue;
            if (e.path.size() == key.size()) {
                if (e.kind == op::set) {
                    replaced = true;
                    set_value = e.value;
                    appended.clear();
                    deeper.clear();
                } else {
                    appended.push_back(e.value);
                }
            } else {
                deeper.push_back({e.path.substr(key.size() + 1), e.value, e.kind});
            }
            e.path = {};
        }
        if (!first_member) out.push_back(',');
        first_member = false;
        if (!replaced && appended.empty() && deeper.empty()) {
            out.append(s.substr(key_start, vend - key_start));  // untouched: verbatim
        } else {
            out.append(s.substr(key_start, key_end - key_start));
            out.push_back(':');
            write_value(replaced ? set_value : value, deeper, appended, out);
        }
        i = skip_ws(s, vend);
        if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    }
    // Edits for keys the object does not have yet.
    bool any = false;
    for (auto& e : edits)
        if (!e.path.empty()) any = true;
    if (any) {
        std::string tmp;
        build_new(edits, tmp);  // "{...}"
        if (tmp.size() > 2) {
            if (!first_member) out.push_back(',');
            out.append(tmp, 1, tmp.size() - 2);
        }
    }
    out.push_back('}');
}

void patch::apply(std::string_view record, std::string& out) const {
    size_t i = skip_ws(record, 0);
    std::vector<pending> edits;
    edits.reserve(edits_.size());
    for (const auto& e : edits_)
        edits.push_back({std::string_view(arena_).substr(e.path_off, e.path_len),
                         std::string_view(arena_).substr(e.val_off, e.val_len), e.kind});
    apply_object(record.substr(i), edits, out);
}

}  // namespace sds::json
