#include "sds/enrich/feeds.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <simdjson.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "sds/core/time.hpp"
#include "sds/enrich/md5.hpp"
#include "sds/json/escape.hpp"

namespace sds::enrich {

namespace fs = std::filesystem;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

uint64_t line_of(std::string_view text, size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + uint64_t(std::count(text.begin(), text.begin() + offset, '\n'));
}

namespace {

// A small JSON syntax checker used only to point at the line of an error simdjson found.
struct json_checker {
    std::string_view s;
    size_t i = 0;
    int depth = 0;
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    bool lit(std::string_view w) {
        if (s.substr(i, w.size()) != w) return false;
        i += w.size();
        return true;
    }
    bool string() {
        if (i >= s.size() || s[i] != '"') return false;
        ++i;
        while (i < s.size()) {
            char c = s[i];
            if (c == '"') {
                ++i;
                return true;
            }
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c == '\\') ++i;
            ++i;
        }
        return false;
    }
    bool number() {
        size_t st = i;
        if (i < s.size() && s[i] == '-') ++i;
        while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                                s[i] == '+' || s[i] == '-'))
            ++i;
        return i > st;
    }
    bool value() {
        if (++depth > 1000) return false;
        ws();
        if (i >= s.size()) return false;
        bool ok = false;
        switch (s[i]) {
            case '{': {
                ++i;
                ws();
                if (i < s.size() && s[i] == '}') {
                    ++i;
                    ok = true;
                    break;
                }
                while (true) {
                    ws();
                    if (!string()) break;
                    ws();
                    if (i >= s.size() || s[i] != ':') break;
                    ++i;
                    if (!value()) break;
                    ws();
                    if (i < s.size() && s[i] == ',') {
                        ++i;
                        continue;
                    }
                    if (i < s.size() && s[i] == '}') {
                        ++i;
                        ok = true;
                    }
                    break;
                }
                break;
            }
            case '[': {
                ++i;
                ws();
                if (i < s.size() && s[i] == ']') {
                    ++i;
                    ok = true;
                    break;
                }
                while (true) {
                    if (!value()) break;
                    ws();
                    if (i < s.size() && s[i] == ',') {
                        ++i;
                        continue;
                    }
                    if (i < s.size() && s[i] == ']') {
                        ++i;
                        ok = true;
                    }
                    break;
                }
                break;
            }
            case '"': ok = string(); break;
            case 't': ok = lit("true"); break;
            case 'f': ok = lit("false"); break;
            case 'n': ok = lit("null"); break;
            default: ok = number();
        }
        --depth;
        return ok;
    }
};

std::string_view str(element e, std::string_view key) {
    std::string_view v;
    if (e.is_object() && !e[key].get(v)) return v;
    return {};
}

// A string or number member as text ("1715767125" and 1715767125 alike).
std::string num_text(element e, std::string_view key) {
    element v;
    if (!e.is_object() || e[key].get(v)) return {};
    std::string_view s;
    if (!v.get(s)) return std::string(s);
    int64_t i;
    if (!v.get(i)) return std::to_string(i);
    uint64_t u;
    if (!v.get(u)) return std::to_string(u);
    double d;
    if (!v.get(d)) return std::to_string(int64_t(d));
    return {};
}

bool truthy(element e, std::string_view key, bool dflt) {
    element v;
    if (!e.is_object() || e[key].get(v)) return dflt;
    bool b;
    if (!v.get(b)) return b;
    int64_t i;
    if (!v.get(i)) return i != 0;
    std::string_view s;
    if (!v.get(s)) return !(s == "0" || s == "false" || s.empty());
    return dflt;
}

int64_t time_of(std::string_view s) {
    if (s.empty()) return 0;
    if (std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
        return time::parse_epoch(s).value_or(0);
    if (auto t = time::parse_iso8601(s)) return *t;
    if (s.size() == 10) return time::parse_iso8601(std::string(s) + "T00:00:00Z").value_or(0);
    return 0;
}

std::string upper(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    return r;
}

// "tlp:amber+strict" → "AMBER+STRICT"
std::string tlp_of_tags(element tags) {
    array a;
    if (tags.get(a)) return {};
    for (auto t : a) {
        std::string_view name = str(t, "name");
        if (name.size() > 4 && (name.substr(0, 4) == "tlp:" || name.substr(0, 4) == "TLP:")) return upper(name.substr(4));
    }
    return {};
}

std::string misp_confidence(std::string_view threat_level) {
    if (threat_level == "1") return "High";
    if (threat_level == "2") return "Medium";
    if (threat_level == "3") return "Low";
    if (threat_level == "4") return "Not Specified";
    return {};
}

std::string stix_confidence(int64_t c) {
    if (c <= 0) return "None";
    if (c < 30) return "Low";
    if (c < 70) return "Medium";
    return "High";
}

// How a MISP attribute type maps to matchable values.
enum class misp_kind { value, first_part, second_part, both_parts, other };
misp_kind misp_type_kind(std::string_view t) {
    static const std::string_view value_types[] = {"ip-src", "ip-dst", "domain", "hostname", "url", "md5", "sha1",
                                                   "sha256", "ip", "uri-dst"};
    for (auto v : value_types)
        if (t == v) return misp_kind::value;
    if (t == "ip-src|port" || t == "ip-dst|port" || t == "hostname|port") return misp_kind::first_part;
    if (t == "filename|md5" || t == "filename|sha1" || t == "filename|sha256") return misp_kind::second_part;
    if (t == "domain|ip") return misp_kind::both_parts;
    return misp_kind::other;
}

std::string stem(const std::string& path) {
    auto p = fs::path(path).filename().string();
    auto dot = p.rfind('.');
    return dot == std::string::npos || dot == 0 ? p : p.substr(0, dot);
}

struct event_ctx {
    std::string provider, info, tlp, confidence, reference;
    int64_t timestamp = 0;
};

}  // namespace

size_t json_error_offset(std::string_view text) {
    json_checker c{text};
    c.ws();
    if (!c.value()) return c.i;
    c.ws();
    return c.i;
}

namespace {

// The whole file in one read (no stream buffers, no second copy).
bool read_file(const std::string& path, std::string& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(size_t(st.st_size));
    char buf[1 << 16];
    while (true) {
        size_t room = out.capacity() - out.size();
        if (room == 0) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                int e = errno;
                ::close(fd);
                errno = e;
                return false;
            }
            if (n == 0) break;
            out.append(buf, size_t(n));
            continue;
        }
        size_t at = out.size();
        out.resize(out.capacity());
        ssize_t n = ::read(fd, out.data() + at, room);
        if (n < 0) {
            out.resize(at);
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            errno = e;
            return false;
        }
        out.resize(at + size_t(n));
        if (n == 0) break;
    }
    ::close(fd);
    return true;
}

}  // namespace

loader::entry_result loader::add(std::string_view raw, uint32_t context, const indicator_times& t, int64_t expires_ms) {
    ++stats_.entries;
    classified* c = &cls_;
    if (!classify(raw, cls_)) {
        ++stats_.bad;
        return entry_result::bad;
    }
    if (expires_ms > 0 && expires_ms <= opt_.now_ms) {
        ++stats_.expired;
        return entry_result::filtered;
    }
    if (opt_.max_age_ms > 0) {
        int64_t seen = t.last_seen_ms ? t.last_seen_ms : t.first_seen_ms;
        if (seen > 0 && seen < opt_.now_ms - opt_.max_age_ms) {
            ++stats_.expired;
            return entry_result::filtered;
        }
    }
    if (wl_ && wl_->covers(*c)) {
        ++stats_.warninglisted;
        return entry_result::filtered;
    }
    if (store_.add(*c, context, t)) {
        ++stats_.added;
        return entry_result::added;
    }
    ++stats_.duplicates;
    return entry_result::duplicate;
}

status loader::load_path(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        auto manifest = fs::path(path) / "manifest.json";
        if (fs::exists(manifest)) return load_feed_dir(path, manifest.string());
        return make_error(exit_code::usage,
                          fmt::format("cannot load feed: {} (a folder without manifest.json)", path));
    }
    std::string text;
    if (!read_file(path, text))
        return make_error(exit_code::usage, fmt::format("cannot open feed: {} ({})", path, std::strerror(errno)));
    if (fs::path(path).filename() == "manifest.json") return load_feed_dir(fs::path(path).parent_path().string(), path);
    ++stats_.files;
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
        return load_json(text, path, fs::path(path).parent_path().string());
    }
    return load_text(text, path);
}

status loader::load_text(std::string_view text, const std::string& name) {
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '{' || text[first] == '['))
        return load_json(text, name, fs::path(name).parent_path().string());
    // Text feeds: no NUL bytes, valid UTF-8.
    if (auto nul = text.find('\0'); nul != std::string_view::npos)
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (binary data)", name, line_of(text, nul)));
    if (!json::valid_utf8(text)) {
        size_t lo = 0;
        uint64_t line = 1;
        while (lo < text.size()) {
            auto nl = text.find('\n', lo);
            auto l = text.substr(lo, nl == std::string_view::npos ? std::string_view::npos : nl - lo);
            if (!json::valid_utf8(l)) break;
            ++line;
            lo = nl == std::string_view::npos ? text.size() : nl + 1;
        }
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (invalid UTF-8)", name, line));
    }
    bool csv = !opt_.csv_column.empty() || fs::path(name).extension() == ".csv";
    if (!csv) {
        // A first non-comment line with commas naming an indicator column.
        size_t lo = 0;
        while (lo < text.size()) {
            auto nl = text.find('\n', lo);
            auto l = text.substr(lo, nl == std::string_view::npos ? std::string_view::npos : nl - lo);
            lo = nl == std::string_view::npos ? text.size() : nl + 1;
            if (l.empty() || l[0] == '#') continue;
            if (l.find(',') != std::string_view::npos) {
                for (auto k : {"indicator", "value", "ioc"})
                    if (l.find(k) != std::string_view::npos) csv = true;
            }
            break;
        }
    }
    return csv ? load_csv(text, name) : load_list(text, name);
}

status loader::load_list(std::string_view text, const std::string& name) {
    uint32_t ctx = store_.add_context({stem(name), {}, {}, {}, {}});
    uint64_t line = 0, good = 0, first_bad = 0;
    size_t lo = 0;
    while (lo < text.size()) {
        auto nl = text.find('\n', lo);
        auto l = text.substr(lo, nl == std::string_view::npos ? std::string_view::npos : nl - lo);
        lo = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line;
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
        if (l.empty() || l[0] == '#' || l[0] == ';') continue;
        size_t end = 0;
        while (end < l.size() && l[end] != ' ' && l[end] != '\t' && l[end] != ',' && l[end] != ';') ++end;
        auto token = l.substr(0, end);
        auto r = add(token, ctx, {});
        if (r == entry_result::bad) {
            if (!first_bad) first_bad = line;
        } else {
            ++good;
        }
    }
    if (good == 0 && first_bad)
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (no indicator recognised)", name, first_bad));
    return {};
}

namespace {

// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
void split_csv(std::string_view l, std::vector<std::string>& out) {
    out.clear();
    std::string cur;
    bool q = false;
    for (size_t i = 0; i < l.size(); ++i) {
        char c = l[i];
        if (q) {
            if (c == '"') {
                if (i + 1 < l.size() && l[i + 1] == '"') {
                    cur.push_back('"');
                    ++i;
                } else {
                    q = false;
                }
            } else {
                cur.push_back(c);
            }
        } else if (c == '"') {
            q = true;
        } else if (c == ',') {
            out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    out.push_back(std::move(cur));
}

bool known_csv_type(std::string_view t) {
    if (t.empty()) return true;
    if (misp_type_kind(t) != misp_kind::other) return true;
    static const std::string_view generic[] = {"ip", "ipv4", "ipv6", "ipv4-addr", "ipv6-addr", "cidr", "domain-name",
                                               "fqdn", "url", "hash", "sha-256", "sha-1", "file", "host"};
    for (auto g : generic)
        if (t == g) return true;
    return false;
}

}  // namespace

status loader::load_csv(std::string_view text, const std::string& name) {
    std::vector<std::string> cells, header;
    size_t lo = 0;
    uint64_t line = 0;
    int value_col = -1, type_col = -1, ids_col = -1, date_col = -1, comment_col = -1;
    bool numeric_column = false;
    if (!opt_.csv_column.empty()) {
        int n = 0;
        auto r = std::from_chars(opt_.csv_column.data(), opt_.csv_column.data() + opt_.csv_column.size(), n);
        if (r.ec == std::errc() && r.ptr == opt_.csv_column.data() + opt_.csv_column.size() && n >= 1) {
            value_col = n - 1;
            numeric_column = true;
        }
    }
    // Header: the first non-comment line, unless the column is given by number and the line
    // already holds an indicator there.
    bool have_header = false;
    while (lo < text.size() && !have_header) {
        auto nl = text.find('\n', lo);
        auto l = text.substr(lo, nl == std::string_view::npos ? std::string_view::npos : nl - lo);
        size_t this_lo = lo;
        lo = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line;
        while (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (l.empty() || l[0] == '#') continue;
        split_csv(l, header);
        if (numeric_column && size_t(value_col) < header.size() && classify(header[value_col])) {
            lo = this_lo;  // no header: this is data
            --line;
            header.clear();
        }
        have_header = true;
    }
    for (size_t i = 0; i < header.size(); ++i) {
        std::string h = header[i];
        for (auto& c : h)
            if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        if (!numeric_column && value_col < 0 && (h == opt_.csv_column)) value_col = int(i);
        if (opt_.csv_column.empty() && value_col < 0 &&
            (h == "indicator" || h == "value" || h == "ioc" || h == "ioc_value" || h == "observable"))
            value_col = int(i);
        if (h == "type" || h == "ioc_type" || h == "indicator_type") type_col = int(i);
        if (h == "to_ids") ids_col = int(i);
        if (h == "detected_date" || h == "first_seen" || h == "date" || h == "dateadded" || h == "first_seen_utc")
            date_col = int(i);
        if (h == "comment" || h == "description") comment_col = int(i);
    }
    if (value_col < 0)
        return make_error(exit_code::usage,
                          fmt::format("cannot parse feed: {}:{} (no indicator column; use --intel-column)", name, line));
    uint32_t ctx = store_.add_context({stem(name), {}, {}, {}, {}});
    uint64_t good = 0, first_bad = 0;
    while (lo < text.size()) {
        auto nl = text.find('\n', lo);
        auto l = text.substr(lo, nl == std::string_view::npos ? std::string_view::npos : nl - lo);
        lo = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line;
        while (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (l.empty() || l[0] == '#') continue;
        split_csv(l, cells);
        if (size_t(value_col) >= cells.size()) {
            ++stats_.entries;
            ++stats_.bad;
            if (!first_bad) first_bad = line;
            continue;
        }
        if (type_col >= 0 && size_t(type_col) < cells.size() && !known_csv_type(cells[type_col])) {
            ++stats_.other_types;
            continue;
        }
        if (ids_col >= 0 && size_t(ids_col) < cells.size() && !opt_.include_non_ids) {
            const auto& v = cells[ids_col];
            if (v == "0" || v == "false" || v == "False") {
                ++stats_.non_ids;
                continue;
            }
        }
        indicator_times t;
        if (date_col >= 0 && size_t(date_col) < cells.size()) t.first_seen_ms = time_of(cells[date_col]);
        if (comment_col >= 0 && size_t(comment_col) < cells.size()) t.comment = cells[comment_col];
        std::string_view v = cells[value_col];
        std::string part;
        if (type_col >= 0 && size_t(type_col) < cells.size()) {
            auto k = misp_type_kind(cells[type_col]);
            auto bar = v.find('|');
            if (bar != std::string_view::npos && k == misp_kind::first_part) v = v.substr(0, bar);
            if (bar != std::string_view::npos && k == misp_kind::second_part) v = v.substr(bar + 1);
        }
        if (add(v, ctx, t) == entry_result::bad) {
            if (!first_bad) first_bad = line;
        } else {
            ++good;
        }
    }
    if (good == 0 && first_bad)
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (no indicator recognised)", name, first_bad));
    return {};
}


namespace {

struct attr_source {
    element attr;
    const event_ctx* ev;
};

}  // namespace

status loader::load_json(std::string_view text, const std::string& name, const std::string& dir) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(text);
    element doc;
    if (auto e = parser.parse(padded).get(doc); e) {
        size_t off = json_error_offset(text);
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} ({})", name, line_of(text, off),
                                                        simdjson::error_message(e)));
    }
    // Event contexts are created lazily, one per MISP event.
    auto event_context = [&](element ev, const std::string& fallback_provider) {
        event_ctx c;
        element orgc;
        if (!ev["Orgc"].get(orgc)) c.provider = std::string(str(orgc, "name"));
        if (c.provider.empty()) c.provider = fallback_provider;
        c.info = std::string(str(ev, "info"));
        element tags;
        if (!ev["Tag"].get(tags)) c.tlp = tlp_of_tags(tags);
        if (!ev["EventTag"].get(tags) && c.tlp.empty()) {
            array a;
            if (!tags.get(a))
                for (auto et : a) {
                    element t;
                    if (!et["Tag"].get(t)) {
                        std::string_view n = str(t, "name");
                        if (n.size() > 4 && (n.substr(0, 4) == "tlp:" || n.substr(0, 4) == "TLP:")) c.tlp = upper(n.substr(4));
                    }
                }
        }
        c.confidence = misp_confidence(num_text(ev, "threat_level_id"));
        std::string uuid(str(ev, "uuid"));
        std::string id = num_text(ev, "id");
        if (!opt_.misp_url.empty() && (!id.empty() || !uuid.empty())) {
            std::string base = opt_.misp_url;
            while (!base.empty() && base.back() == '/') base.pop_back();
            c.reference = fmt::format("{}/events/view/{}", base, uuid.empty() ? id : uuid);
        } else if (!uuid.empty()) {
            c.reference = fmt::format("misp:event/{}", uuid);
        }
        c.timestamp = time_of(num_text(ev, "timestamp"));
        return c;
    };
    auto add_attribute = [&](element a, uint32_t ctx, int64_t event_ts) {
        std::string_view type = str(a, "type");
        std::string_view value = str(a, "value");
        if (truthy(a, "deleted", false)) return;
        auto kind = misp_type_kind(type);
        if (kind == misp_kind::other) {
            ++stats_.other_types;
            return;
        }
        if (!truthy(a, "to_ids", true) && !opt_.include_non_ids) {
            ++stats_.non_ids;
            return;
        }
        // MISP's decaying models mark attributes whose score fell below the threshold.
        array decay;
        if (!a["decay_score"].get(decay)) {
            bool decayed = false;
            for (auto d : decay)
                if (truthy(d, "decayed", false)) decayed = true;
            if (decayed) {
                ++stats_.entries;
                ++stats_.expired;
                return;
            }
        }
        indicator_times t;
        t.first_seen_ms = time_of(str(a, "first_seen"));
        t.last_seen_ms = time_of(str(a, "last_seen"));
        if (!t.last_seen_ms) t.last_seen_ms = time_of(num_text(a, "timestamp"));
        if (!t.last_seen_ms) t.last_seen_ms = event_ts;
        t.comment = str(a, "comment");
        auto bar = value.find('|');
        switch (kind) {
            case misp_kind::value: add(value, ctx, t); break;
            case misp_kind::first_part: add(value.substr(0, bar), ctx, t); break;
            case misp_kind::second_part:
                add(bar == std::string_view::npos ? value : value.substr(bar + 1), ctx, t);
                break;
            case misp_kind::both_parts:
                add(value.substr(0, bar), ctx, t);
                if (bar != std::string_view::npos) add(value.substr(bar + 1), ctx, t);
                break;
            case misp_kind::other: break;
        }
    };
    auto load_event = [&](element ev) {
        event_ctx c = event_context(ev, stem(name));
        uint32_t ctx = store_.add_context({c.provider, c.info, c.tlp, c.reference, c.confidence});
        array attrs;
        if (!ev["Attribute"].get(attrs))
            for (auto a : attrs) add_attribute(a, ctx, c.timestamp);
        array objs;
        if (!ev["Object"].get(objs))
            for (auto o : objs) {
                array oattrs;
                if (!o["Attribute"].get(oattrs))
                    for (auto a : oattrs) add_attribute(a, ctx, c.timestamp);
            }
    };
    // restSearch results: attributes each carrying their Event.
    auto load_attributes = [&](array attrs) {
        std::unordered_map<std::string, uint32_t> ctx_of;
        for (auto a : attrs) {
            element ev;
            std::string key;
            uint32_t ctx;
            int64_t ts = 0;
            if (!a["Event"].get(ev)) {
                key = std::string(str(ev, "uuid"));
                if (key.empty()) key = num_text(ev, "id");
            }
            auto it = ctx_of.find(key);
            if (it == ctx_of.end()) {
                event_ctx c = ev.is_object() ? event_context(ev, "MISP") : event_ctx{"MISP"};
                // With includeEventTags the event's tags (TLP among them) ride on the attribute.
                element atags;
                if (c.tlp.empty() && !a["Tag"].get(atags)) c.tlp = tlp_of_tags(atags);
                ctx = store_.add_context({c.provider, c.info, c.tlp, c.reference, c.confidence});
                ctx_of.emplace(key, ctx);
            } else {
                ctx = it->second;
            }
            add_attribute(a, ctx, ts);
        }
    };

    element ev;
    if (doc.is_object()) {
        object o = doc.get_object();
        std::string_view type = str(doc, "type");
        if (!doc["Event"].get(ev)) {
            load_event(ev);
            return {};
        }
        element resp;
        if (!doc["response"].get(resp)) {
            array attrs;
            element inner;
            if (resp.is_object() && !resp["Attribute"].get(attrs)) {
                load_attributes(attrs);
                return {};
            }
            if (resp.is_array()) {  // [{"Event":{...}}, ...]
                for (auto e : resp.get_array())
                    if (!e["Event"].get(inner)) load_event(inner);
                return {};
            }
        }
        if (type == "bundle") return load_stix(doc, name);
        array attrs;
        if (!doc["Attribute"].get(attrs) && !str(doc, "info").empty()) {
            load_event(doc);
            return {};
        }
        // A feed manifest: {"<uuid>": {"info":...}, ...}
        bool manifest = o.size() > 0;
        for (auto [k, v] : o)
            if (!v.is_object() || str(v, "info").empty()) manifest = false;
        if (manifest) return load_feed_dir(dir.empty() ? "." : dir, name);
        return make_error(exit_code::usage, fmt::format("cannot load feed: {}:1 (not a MISP event, MISP feed manifest "
                                                        "or STIX 2.1 bundle)", name));
    }
    // An array of events or of attributes.
    array arr = doc.get_array();
    bool any = false;
    for (auto e : arr) {
        if (!e["Event"].get(ev)) {
            load_event(ev);
            any = true;
        }
    }
    if (!any && arr.size() > 0) load_attributes(arr);
    return {};
}

namespace {

// One comparison of a STIX pattern: "ipv4-addr:value = '1.2.3.4'".
struct stix_cmp {
    std::string_view path, value;
};

std::string_view strip(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '(' || s.front() == '[')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == ')' || s.back() == ']')) s.remove_suffix(1);
    return s;
}

// Parses a pattern of simple equality comparisons joined by OR. Anything else (AND, FOLLOWEDBY,
// other operators, qualifiers) → nullopt.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_stix_pattern(std::string_view p) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    while (i < p.size()) {
        // Left side up to '='.
        auto eq = p.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view lhs = strip(p.substr(i, eq - i));
        if (lhs.find(' ') != std::string_view::npos || lhs.empty()) return std::nullopt;
        if (eq > 0 && (p[eq - 1] == '!' || p[eq - 1] == '<' || p[eq - 1] == '>')) return std::nullopt;
        size_t q = p.find('\'', eq);
        if (q == std::string_view::npos || strip(p.substr(eq + 1, q - eq - 1)).size() != 0) return std::nullopt;
        std::string value;
        size_t j = q + 1;
        for (; j < p.size(); ++j) {
            if (p[j] == '\\' && j + 1 < p.size()) {
                value.push_back(p[++j]);
                continue;
            }
            if (p[j] == '\'') break;
            value.push_back(p[j]);
        }
        if (j >= p.size()) return std::nullopt;
        out.emplace_back(std::string(lhs), std::move(value));
        // Then "OR" or the end.
        std::string_view rest = p.substr(j + 1);
        std::string_view r = strip(rest);
        if (r.empty()) break;
        size_t k = j + 1;
        while (k < p.size() && (p[k] == ' ' || p[k] == ')' || p[k] == ']')) ++k;
        if (p.substr(k, 3) != "OR ") return std::nullopt;
        i = k + 3;
        while (i < p.size() && (p[i] == ' ' || p[i] == '(' || p[i] == '[')) ++i;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

bool stix_path_supported(std::string_view lhs) {
    static const std::string_view ok[] = {"ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "url:value",
                                          "file:hashes.md5", "file:hashes.MD5", "file:hashes.sha1", "file:hashes.sha256",
                                          "file:hashes.'MD5'", "file:hashes.'SHA-1'", "file:hashes.'SHA-256'",
                                          "file:hashes.'SHA1'", "file:hashes.'SHA256'", "file:hashes.SHA-1",
                                          "file:hashes.SHA-256"};
    for (auto o : ok)
        if (lhs == o) return true;
    return false;
}

std::string tlp_of_marking_id(std::string_view id) {
    if (id == "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9") return "WHITE";
    if (id == "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da") return "GREEN";
    if (id == "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82") return "AMBER";
    if (id == "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed") return "RED";
    if (id == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487") return "CLEAR";
    if (id == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003") return "AMBER+STRICT";
    return {};
}

}  // namespace

status loader::load_stix(element bundle, const std::string& name) {
    array objects;
    if (bundle["objects"].get(objects))
        return make_error(exit_code::usage, fmt::format("cannot load feed: {}:1 (STIX bundle without objects)", name));
    // Identities (providers) and TLP markings defined in the bundle.
    std::unordered_map<std::string, std::string> identity, tlp;
    for (auto o : objects) {
        std::string_view type = str(o, "type"), id = str(o, "id");
        if (type == "identity") identity[std::string(id)] = std::string(str(o, "name"));
        if (type == "marking-definition") {
            element def;
            std::string_view t;
            if (!o["definition"].get(def) && !def["tlp"].get(t)) tlp[std::string(id)] = upper(t);
            if (!str(o, "name").empty() && str(o, "name").substr(0, 4) == "TLP:") tlp[std::string(id)] = upper(str(o, "name").substr(4));
        }
    }
    for (auto o : objects) {
        if (str(o, "type") != "indicator") continue;
        std::string_view pattern = str(o, "pattern");
        std::string_view ptype = str(o, "pattern_type");
        if (!ptype.empty() && ptype != "stix") {
            ++stats_.other_types;
            continue;
        }
        auto cmps = parse_stix_pattern(pattern);
        if (!cmps) {
            ++stats_.other_types;
            continue;
        }
        bool all_ok = std::all_of(cmps->begin(), cmps->end(), [](const auto& c) { return stix_path_supported(c.first); });
        if (!all_ok) {
            ++stats_.other_types;
            continue;
        }
        context_info c;
        std::string_view creator = str(o, "created_by_ref");
        if (auto it = identity.find(std::string(creator)); it != identity.end()) c.provider = it->second;
        if (c.provider.empty()) c.provider = stem(name);
        std::string_view n = str(o, "name"), d = str(o, "description");
        c.description = std::string(!n.empty() ? n : d);
        c.reference = std::string(str(o, "id"));
        int64_t conf;
        if (!o["confidence"].get(conf)) c.confidence = stix_confidence(conf);
        array marks;
        if (!o["object_marking_refs"].get(marks))
            for (auto m : marks) {
                std::string_view mid;
                if (m.get(mid)) continue;
                std::string t = tlp_of_marking_id(mid);
                if (t.empty())
                    if (auto it = tlp.find(std::string(mid)); it != tlp.end()) t = it->second;
                if (!t.empty()) c.tlp = t;
            }
        uint32_t ctx = store_.add_context(std::move(c));
        indicator_times t;
        t.first_seen_ms = time_of(str(o, "valid_from"));
        t.last_seen_ms = time_of(str(o, "modified"));
        int64_t expires = time_of(str(o, "valid_until"));
        if (truthy(o, "revoked", false)) {
            stats_.entries += cmps->size();
            stats_.expired += cmps->size();
            continue;
        }
        for (const auto& [lhs, value] : *cmps) add(value, ctx, t, expires);
    }
    return {};
}

status loader::load_feed_dir(const std::string& dir, const std::string& manifest_path) {
    std::ifstream in(manifest_path, std::ios::binary);
    if (!in) return make_error(exit_code::usage, fmt::format("cannot open feed: {} ({})", manifest_path, std::strerror(errno)));
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = std::move(ss).str();
    simdjson::dom::parser parser;
    simdjson::padded_string padded(text);
    element doc;
    if (auto e = parser.parse(padded).get(doc); e)
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} ({})", manifest_path,
                                                        line_of(text, json_error_offset(text)), simdjson::error_message(e)));
    object o;
    if (doc.get(o))
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:1 (manifest is not an object)", manifest_path));
    std::vector<std::string> uuids;
    for (auto [k, v] : o) uuids.emplace_back(k);
    std::sort(uuids.begin(), uuids.end());
    uint64_t missing = 0;
    std::vector<fs::path> events;
    std::vector<std::string> loaded;  // sorted, as uuids
    for (const auto& u : uuids) {
        fs::path ev = fs::path(dir) / (u + ".json");
        std::error_code ec;
        if (!fs::exists(ev, ec)) {
            ++missing;
            continue;
        }
        events.push_back(std::move(ev));
        loaded.push_back(u);
        for (auto& ch : loaded.back())
            if (ch >= 'A' && ch <= 'F') ch = char(ch - 'A' + 'a');
    }
    std::sort(loaded.begin(), loaded.end());
    // Loads events [from, to) into `into` (a failed read parses as empty: a parse error).
    auto load_events = [&](loader& into, size_t from, size_t to) -> status {
        for (size_t k = from; k < to; ++k) {
            std::string etext;
            if (!read_file(events[k].string(), etext)) etext.clear();
            ++into.stats_.files;
            if (auto st = into.load_json(etext, events[k].string(), dir); !st) return st;
        }
        return {};
    };
    // A feed of many events is parsed on threads, each taking a run of consecutive events into
    // a store of its own; the runs are moved into this store in manifest order, which gives
    // what loading them one after the other gives.
    size_t hw = std::thread::hardware_concurrency();
    size_t parts = std::min<size_t>({hw ? hw : 1, 8, events.size() / 8});
    if (parts <= 1) {
        if (auto st = load_events(*this, 0, events.size()); !st) return st;
    } else {
        struct part {
            store s;
            load_stats stats;
            std::vector<std::string> warnings;
            status st;
            std::exception_ptr thrown;
        };
        std::vector<part> done(parts);
        auto work = [&](size_t k) {
            try {
                loader sub(done[k].s, wl_, opt_);
                done[k].st = load_events(sub, k * events.size() / parts, (k + 1) * events.size() / parts);
                done[k].stats = sub.stats_;
                done[k].warnings = std::move(sub.warnings);
            } catch (...) {
                done[k].thrown = std::current_exception();
            }
        };
        std::vector<std::thread> threads;
        for (size_t k = 1; k < parts; ++k) threads.emplace_back(work, k);
        work(0);
        for (auto& t : threads) t.join();
        for (auto& d : done) {
            if (d.thrown) std::rethrow_exception(d.thrown);
            size_t dups = store_.absorb(std::move(d.s));
            d.stats.added -= dups;
            d.stats.duplicates += dups;
            stats_ += d.stats;
            for (auto& w : d.warnings) warnings.push_back(std::move(w));
            if (!d.st) return d.st;
        }
    }
    if (missing) {
        stats_.missing_events += missing;
        warnings.push_back(fmt::format("{}: {} of {} events listed in manifest.json have no event file", dir, missing,
                                       uuids.size()));
    }
    // The feed's value hashes, when it publishes them.
    fs::path hashes = fs::path(dir) / "hashes.csv";
    std::error_code ec;
    if (fs::exists(hashes, ec)) {
        std::string htext;
        if (!read_file(hashes.string(), htext))
            return make_error(exit_code::usage, fmt::format("cannot open feed: {} ({})", hashes.string(), std::strerror(errno)));
        ++stats_.files;
        std::string feed = fs::path(dir).filename().string();
        if (feed.empty()) feed = fs::path(dir).parent_path().filename().string();
        return load_feed_hashes(htext, hashes.string(), o, loaded, feed);
    }
    return {};
}

namespace {

bool is_uuid(std::string_view u) {
    if (u.size() != 36) return false;
    for (size_t i = 0; i < u.size(); ++i) {
        char c = u[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
}

}  // namespace

status loader::load_feed_hashes(std::string_view text, const std::string& name, object manifest,
                                const std::vector<std::string>& loaded, const std::string& feed) {
    if (auto nul = text.find('\0'); nul != std::string_view::npos)
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (binary data)", name, line_of(text, nul)));
    // One context per event named (lazily), none for an event older than --intel-max-age.
    constexpr uint32_t expired = UINT32_MAX - 1;
    std::unordered_map<std::string, uint32_t> ctx_of;
    auto context_of = [&](std::string_view uuid) -> uint32_t {
        std::string key(uuid);
        for (auto& ch : key)
            if (ch >= 'A' && ch <= 'F') ch = char(ch - 'A' + 'a');
        if (auto it = ctx_of.find(key); it != ctx_of.end()) return it->second;
        context_info c;
        element ev;
        bool listed = !manifest[key].get(ev) && ev.is_object();
        int64_t ts = 0;
        if (listed) {
            element orgc;
            if (!ev["Orgc"].get(orgc)) c.provider = std::string(str(orgc, "name"));
            c.description = std::string(str(ev, "info"));
            element tags;
            if (!ev["Tag"].get(tags)) c.tlp = tlp_of_tags(tags);
            c.confidence = misp_confidence(num_text(ev, "threat_level_id"));
            ts = time_of(num_text(ev, "timestamp"));
        }
        if (c.provider.empty()) c.provider = feed;
        if (!opt_.misp_url.empty()) {
            std::string base = opt_.misp_url;
            while (!base.empty() && base.back() == '/') base.pop_back();
            c.reference = fmt::format("{}/events/view/{}", base, key);
        } else {
            c.reference = fmt::format("misp:event/{}", key);
        }
        uint32_t id = (opt_.max_age_ms > 0 && ts > 0 && ts < opt_.now_ms - opt_.max_age_ms)
                          ? expired
                          : store_.add_context(std::move(c));
        ctx_of.emplace(std::move(key), id);
        return id;
    };
    struct kept {
        md5_digest digest;
        uint32_t ctx;
    };
    std::vector<kept> keep;
    uint64_t line = 0, good = 0, first_bad = 0;
    size_t lo = 0;
    while (lo < text.size()) {
        auto nl = text.find('\n', lo);
        auto l = text.substr(lo, nl == std::string_view::npos ? std::string_view::npos : nl - lo);
        lo = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line;
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
        if (l.empty()) continue;
        auto comma = l.find(',');
        md5_digest d;
        std::string_view uuid = comma == std::string_view::npos ? std::string_view() : l.substr(comma + 1);
        while (!uuid.empty() && uuid.front() == ' ') uuid.remove_prefix(1);
        if (comma == std::string_view::npos || !md5_from_hex(l.substr(0, comma), d) || !is_uuid(uuid)) {
            ++stats_.bad;
            if (!first_bad) first_bad = line;
            continue;
        }
        ++good;
        ++stats_.hashes_loaded;
        std::string lower(uuid);
        for (auto& ch : lower)
            if (ch >= 'A' && ch <= 'F') ch = char(ch - 'A' + 'a');
        if (std::binary_search(loaded.begin(), loaded.end(), lower)) {
            ++stats_.hashes_redundant;
            continue;
        }
        uint32_t ctx = context_of(lower);
        if (ctx == expired) {
            ++stats_.hashes_expired;
            continue;
        }
        keep.push_back({d, ctx});
    }
    if (good == 0 && first_bad)
        return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (not \"<md5>,<event uuid>\")", name, first_bad));
    // An event holding one value twice (or both parts of a composite equal) lists it twice.
    std::sort(keep.begin(), keep.end(), [](const kept& a, const kept& b) {
        return a.digest < b.digest || (a.digest == b.digest && a.ctx < b.ctx);
    });
    size_t w = 0;
    for (size_t r = 0; r < keep.size(); ++r) {
        if (w > 0 && keep[w - 1].digest == keep[r].digest && keep[w - 1].ctx == keep[r].ctx) {
            ++stats_.hashes_redundant;
            continue;
        }
        keep[w++] = keep[r];
    }
    keep.resize(w);
    for (const auto& k : keep) store_.add_value_hash(k.digest, k.ctx);
    stats_.hashes_used += keep.size();
    if (first_bad)
        warnings.push_back(fmt::format("{}:{}: a line that is not \"<md5>,<event uuid>\" was skipped", name, first_bad));
    return {};
}

}  // namespace sds::enrich
