#include "sds/json/patch.hpp"

#include <cstring>

#include "sds/json/escape.hpp"
#include "sds/json/skip.hpp"

namespace sds::json {

namespace {

// A member name and its colon; plain names (the usual field names) need no escaping pass.
inline void append_key(std::string& out, std::string_view k) {
    bool plain = true;
    for (char c : k)
        if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) plain = false;
    if (!plain) {
        append_string(out, k);
        out.push_back(':');
        return;
    }
    out.push_back('"');
    out.append(k);
    out.append("\":", 2);
}

inline uint64_t head_of(std::string_view s, size_t n) {
    // Built in a register (a short memcpy into a word and reading it back stalls the store
    // forwarding, which cost more than the comparisons it saves).
    if (n >= 8) {
        uint64_t h;
        std::memcpy(&h, s.data(), 8);
        return h;
    }
    uint64_t h = 0;
    for (size_t i = 0; i < n; ++i) h |= uint64_t(static_cast<unsigned char>(s[i])) << (8 * i);
    return h;
}

inline uint32_t segment_length(std::string_view path) {
    size_t dot = path.find('.');
    return static_cast<uint32_t>(dot == std::string_view::npos ? path.size() : dot);
}

}  // namespace

size_t patch::begin(std::string_view path) {
    size_t off = arena_.size();
    arena_.append(path);
    return off;
}

void patch::end(size_t path_off, size_t path_len, op kind, bool fresh) {
    size_t val_off = path_off + path_len;
    edits_.push_back(edit{static_cast<uint32_t>(path_off), static_cast<uint32_t>(path_len),
                          static_cast<uint32_t>(val_off), static_cast<uint32_t>(arena_.size() - val_off), kind,
                          fresh});
}

void patch::set_new(std::string_view member, std::string_view json) {
    size_t p = begin(member);
    arena_.append(json);
    end(p, member.size(), op::set, true);
}

void patch::add(std::string_view path, std::string_view json, op kind) {
    size_t p = begin(path);
    arena_.append(json);
    end(p, path.size(), kind);
}

void patch::set_raw(std::string_view path, std::string_view json) { add(path, json, op::set); }
void patch::append_raw(std::string_view path, std::string_view json) { add(path, json, op::append); }
void patch::set_string(std::string_view path, std::string_view v) {
    size_t p = begin(path);
    append_string_lossy(arena_, v);
    end(p, path.size(), op::set);
}

bool patch::touches(std::string_view member) const noexcept {
    for (const auto& e : edits_) {
        std::string_view path(arena_.data() + e.path_off, e.path_len);
        if (path.size() >= member.size() && path.compare(0, member.size(), member) == 0 &&
            (path.size() == member.size() || path[member.size()] == '.'))
            return true;
    }
    return false;
}

void patch::load_pending() const {
    stack_.clear();
    appended_.clear();
    std::string_view a(arena_);
    for (const auto& e : edits_) {
        std::string_view path = a.substr(e.path_off, e.path_len);
        uint32_t seg = segment_length(path);
        stack_.push_back(pending{path, a.substr(e.val_off, e.val_len), seg, head_of(path, seg), e.kind, false});
    }
}

bool patch::collect(std::string_view key, size_t lo, size_t hi, std::string_view& set_value) const {
    const size_t d_lo = stack_.size(), a_lo = appended_.size();
    bool replaced = false;
    const uint64_t key_head = head_of(key, key.size());
    for (size_t j = lo; j < hi; ++j) {
        {
            const pending& c = stack_[j];
            if (c.done || c.seg != key.size() || c.head != key_head) continue;
            if (c.seg > 8 && std::memcmp(c.path.data() + 8, key.data() + 8, c.seg - 8) != 0) continue;
        }
        const pending e = stack_[j];  // a copy: the pushes below may move the vector
        stack_[j].done = true;
        if (e.path.size() == e.seg) {
            if (e.kind == op::set) {
                replaced = true;
                set_value = e.value;
                appended_.resize(a_lo);
                stack_.resize(d_lo);
            } else {
                appended_.push_back(e.value);
            }
        } else {
            std::string_view rest = e.path.substr(e.seg + 1);
            uint32_t seg = segment_length(rest);
            stack_.push_back(pending{rest, e.value, seg, head_of(rest, seg), e.kind, false});
        }
    }
    return replaced;
}

void patch::build_members(size_t lo, size_t hi, bool first, std::string& out) const {
    // New members, grouped by first segment in the order the edits came.
    for (size_t i = lo; i < hi; ++i) {
        if (stack_[i].done) continue;
        std::string_view seg = stack_[i].path.substr(0, stack_[i].seg);
        if (!first) out.push_back(',');
        first = false;
        append_key(out, seg);
        const size_t d_lo = stack_.size(), a_lo = appended_.size();
        std::string_view set_value;
        collect(seg, i, hi, set_value);
        write_value(set_value, d_lo, stack_.size(), a_lo, appended_.size(), out);
        stack_.resize(d_lo);
        appended_.resize(a_lo);
    }
}

// Writes the new value of one member: `base` (its current or newly set value, empty when it
// has none) with the deeper edits merged into it when it is an object, or the appended values
// added when it is an array; a base of another type is replaced. Used for existing members
// and new ones alike, so "set x, then set x.y / append to x" means the same in both.
void patch::write_value(std::string_view base, size_t d_lo, size_t d_hi, size_t a_lo, size_t a_hi,
                        std::string& out) const {
    if (d_hi > d_lo) {
        if (!base.empty() && base.front() == '{') {
            apply_object(base, d_lo, d_hi, out, 0);
        } else {
            out.push_back('{');
            build_members(d_lo, d_hi, true, out);
            out.push_back('}');
        }
    } else if (a_hi > a_lo) {
        bool empty_array = true;
        if (!base.empty() && base.front() == '[') {
            // Append before the closing bracket.
            size_t close = base.rfind(']');
            out.append(base.substr(0, close));
            empty_array = skip_ws(base, 1) == close;
        } else {
            out.push_back('[');
        }
        for (size_t k = a_lo; k < a_hi; ++k) {
            if (!empty_array) out.push_back(',');
            empty_array = false;
            out.append(appended_[k]);
        }
        out.push_back(']');
    } else {
        out.append(base.empty() ? std::string_view("null") : base);
    }
}

void patch::apply_object(std::string_view s, size_t lo, size_t hi, std::string& out, size_t stop_after) const {
    // s is the whole object text, starting with '{'.
    out.push_back('{');
    bool first_member = true;
    size_t edited = 0;
    size_t i = skip_ws(s, 1);
    while (i < s.size() && s[i] == '"') {
        if (stop_after && edited == stop_after) {
            // Every member the edits touch has been written: the rest of the object as it is
            // (separators included), without scanning it.
            size_t end = s.size();
            while (end > i && is_ws(s[end - 1])) --end;
            if (end > i && s[end - 1] == '}') --end;
            while (end > i && is_ws(s[end - 1])) --end;
            out.push_back(',');
            out.append(s.substr(i, end - i));
            break;
        }
        size_t key_start = i;
        size_t key_end = skip_string(s, i);
        std::string_view key = s.substr(key_start + 1, key_end - key_start - 2);
        size_t colon = skip_ws(s, key_end);
        size_t vstart = skip_ws(s, colon + 1);
        size_t vend = skip_value(s, vstart);

        const size_t d_lo = stack_.size(), a_lo = appended_.size();
        std::string_view set_value;
        bool replaced = collect(key, lo, hi, set_value);
        if (!first_member) out.push_back(',');
        first_member = false;
        if (!replaced && appended_.size() == a_lo && stack_.size() == d_lo) {
            out.append(s.substr(key_start, vend - key_start));  // untouched: verbatim
        } else {
            ++edited;
            out.append(s.substr(key_start, key_end - key_start));
            out.push_back(':');
            write_value(replaced ? set_value : s.substr(vstart, vend - vstart), d_lo, stack_.size(), a_lo,
                        appended_.size(), out);
            stack_.resize(d_lo);
            appended_.resize(a_lo);
        }
        i = skip_ws(s, vend);
        if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
    }
    // Edits for keys the object does not have yet.
    build_members(lo, hi, first_member, out);
    out.push_back('}');
}

void patch::apply(std::string_view record, std::string& out) const {
    load_pending();
    apply_object(record.substr(skip_ws(record, 0)), 0, stack_.size(), out, 0);
}

void patch::apply(std::string_view record, simdjson::dom::element doc, std::string& out) const {
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) {
        apply(record, out);
        return;
    }
    size_t start = skip_ws(record, 0);
    size_t end = record.size();
    while (end > start && is_ws(record[end - 1])) --end;
    bool all_new = end > start && record[end - 1] == '}';
    for (const auto& e : edits_) all_new = all_new && e.fresh;
    if (all_new) {  // only new members: the record's text up to its closing brace, then them
        size_t body_end = end - 1;
        while (body_end > start + 1 && is_ws(record[body_end - 1])) --body_end;
        bool first = body_end == start + 1;
        out.append(record.substr(start, body_end - start));
        for (const auto& e : edits_) {
            if (!first) out.push_back(',');
            first = false;
            append_key(out, std::string_view(arena_.data() + e.path_off, e.path_len));
            out.append(arena_.data() + e.val_off, e.val_len);
        }
        out.push_back('}');
        return;
    }
    load_pending();
    // How many distinct top-level members the edits touch are in the record: the text is
    // scanned only until the last of them is written.
    size_t present = 0;
    for (size_t k = 0; k < stack_.size(); ++k) {
        std::string_view seg = stack_[k].path.substr(0, stack_[k].seg);
        bool repeated = false;
        for (size_t j = 0; j < k && !repeated; ++j)
            repeated = stack_[j].seg == seg.size() && stack_[j].head == stack_[k].head &&
                       stack_[j].path.compare(0, seg.size(), seg) == 0;
        simdjson::dom::element v;
        if (!repeated && !obj.at_key(seg).get(v)) ++present;
    }
    if (present > 0) {
        apply_object(record.substr(start), 0, stack_.size(), out, present);
        return;
    }
    // None of the edited members exists: the record's text up to its closing brace, then the
    // new members.
    if (end == start || record[end - 1] != '}') {
        apply_object(record.substr(start), 0, stack_.size(), out, 0);
        return;
    }
    size_t body_end = end - 1;
    while (body_end > start + 1 && is_ws(record[body_end - 1])) --body_end;
    bool empty_object = body_end == start + 1;
    out.append(record.substr(start, body_end - start));
    build_members(0, stack_.size(), empty_object, out);
    out.push_back('}');
}

}  // namespace sds::json
