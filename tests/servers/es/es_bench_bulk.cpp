#include "es_bench_bulk.hpp"

#include <charconv>
#include <cstring>

namespace es_bench {
namespace {

constexpr std::string_view shards_json = R"(,"_shards":{"total":2,"successful":1,"failed":0})";

uint64_t hash_id(std::string_view s) {
    uint64_t h = 0x243f6a8885a308d3ULL ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 31;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 32;
    return h ? h : 1;
}

void append_uint(std::string& out, uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string_view op_name(int k) {
    static constexpr std::string_view names[] = {"index", "create", "update", "delete"};
    return names[k];
}

// Elasticsearch's index name rules (Create index API): lower case, none of \ / * ? " < > | space
// , # :, not starting with - _ +, not . or .., at most 255 bytes.
bool valid_index_name(std::string_view n) {
    if (n.empty() || n.size() > 255 || n == "." || n == ".." || n[0] == '-' || n[0] == '_' || n[0] == '+') return false;
    for (char c : n)
        if ((c >= 'A' && c <= 'Z') || std::strchr("\\/*?\"<>| ,#:", c) != nullptr) return false;
    return true;
}

bool is_meta_key(std::string_view k) {
    static constexpr std::string_view keys[] = {"_index", "_id", "routing", "_routing", "version", "version_type",
                                                "if_seq_no", "if_primary_term", "pipeline", "require_alias",
                                                "require_data_stream", "retry_on_conflict", "dynamic_templates",
                                                "_source", "list_executed_pipelines"};
    for (auto key : keys)
        if (k == key) return true;
    return false;
}

std::string token_name(simdjson::dom::element e) {
    switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: return "START_ARRAY";
    case simdjson::dom::element_type::STRING: return "VALUE_STRING";
    case simdjson::dom::element_type::BOOL: return "VALUE_BOOLEAN";
    case simdjson::dom::element_type::NULL_VALUE: return "VALUE_NULL";
    case simdjson::dom::element_type::OBJECT: return "START_OBJECT";
    default: return "VALUE_NUMBER";
    }
}

bool is_update_key(std::string_view k) {
    static constexpr std::string_view keys[] = {"doc", "doc_as_upsert", "upsert", "script", "scripted_upsert",
                                                "detect_noop", "_source", "lang", "params"};
    for (auto key : keys)
        if (k == key) return true;
    return false;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

id_table::slot& id_table::find_or_insert(uint64_t key) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = key & mask;; i = (i + 1) & mask) {
        slot& s = slots_[i];
        if (s.key == key) return s;
        if (s.key == 0) {
            s.key = key;
            ++used_;
            return s;
        }
    }
}

void id_table::grow() {
    std::vector<slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const slot& s : old) {
        if (s.key == 0) continue;
        size_t i = s.key & mask;
        while (slots_[i].key != 0) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

void id_table::clear() {
    slots_.assign(1 << 16, slot{});
    used_ = 0;
}

uint64_t store::count(std::string_view target, bool& missing) {
    missing = false;
    uint64_t n = 0;
    auto now = std::chrono::steady_clock::now();
    auto visit = [&](index_state& ix) {
        if (now - ix.last_refresh >= std::chrono::seconds(1)) {
            ix.visible = ix.live;
            ix.last_refresh = now;
        }
        n += ix.visible;
    };
    while (!target.empty()) {
        auto comma = target.find(',');
        std::string_view one = target.substr(0, comma);
        target = comma == std::string_view::npos ? std::string_view{} : target.substr(comma + 1);
        if (one == "_all" || one == "*") {
            for (auto& [name, ix] : indices) visit(ix);
        } else if (!one.empty() && one.back() == '*') {
            std::string_view prefix = one.substr(0, one.size() - 1);
            for (auto& [name, ix] : indices)
                if (std::string_view(name).starts_with(prefix)) visit(ix);
        } else if (auto it = indices.find(one); it != indices.end()) {
            visit(it->second);
        } else {
            missing = true;
        }
    }
    return n;
}

void store::refresh(std::string_view target) {
    auto now = std::chrono::steady_clock::now();
    for (auto& [name, ix] : indices) {
        if (target.empty() || target == "_all" || target == "*" || target == name) {
            ix.visible = ix.live;
            ix.last_refresh = now;
        }
    }
}

int bulk_handler::fail(std::string& out, int status, std::string_view type, std::string_view reason) {
    out.clear();
    out += R"({"error":{"root_cause":[{"type":)";
    append_json_string(out, type);
    out += R"(,"reason":)";
    append_json_string(out, reason);
    out += R"(}],"type":)";
    append_json_string(out, type);
    out += R"(,"reason":)";
    append_json_string(out, reason);
    out += R"(},"status":)";
    append_uint(out, static_cast<uint64_t>(status));
    out += '}';
    return status;
}

// Cuts the body into items. Nothing is applied here, so a malformed request changes nothing.
int bulk_handler::parse(std::string_view body, std::string_view default_index, std::string& out) {
    using namespace simdjson;
    items_.clear();
    arena_.clear();
    constexpr std::string_view no_newline = "The bulk request must be terminated by a newline [\\n]";
    if (!body.empty() && body.back() != '\n') return fail(out, 400, "illegal_argument_exception", no_newline);
    const char* p = body.data();
    const char* end = p + body.size();
    size_t line_no = 0;
    uint32_t last_index_off = 0, last_index_len = UINT32_MAX;
    std::string problems;
    size_t n_problems = 0;
    auto problem = [&](std::string_view what) {
        if (n_problems > 20) return;
        append_uint(problems, ++n_problems);
        problems += ": ";
        problems += what;
        problems += ';';
    };
    auto malformed = [&](std::string_view what) {
        std::string r = "Malformed action/metadata line [" + std::to_string(line_no) + "], " + std::string(what);
        return fail(out, 400, "illegal_argument_exception", r);
    };
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        std::string_view line(p, static_cast<size_t>(nl - p));
        ++line_no;
        p = nl + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        // The body buffer is padded, so each line can be parsed in place.
        dom::element doc;
        if (parser_.parse(line.data(), line.size(), false).get(doc))
            return fail(out, 400, "x_content_parse_exception",
                        "[" + std::to_string(line_no) + ":1] Unexpected character in action/metadata line");
        dom::object action;
        if (doc.get_object().get(action)) return malformed("expected START_OBJECT but found [" + token_name(doc) + "]");
        item it{};
        it.id_len = UINT32_MAX;
        bool has_index = false;
        if (action.size() == 0) return malformed("expected FIELD_NAME but found [END_OBJECT]");
        auto [key, meta_el] = *action.begin();
        if (key == "index") it.kind = op::index;
        else if (key == "create") it.kind = op::create;
        else if (key == "update") it.kind = op::update;
        else if (key == "delete") it.kind = op::del;
        else return malformed("expected field [create], [delete], [index] or [update] but found [" + std::string(key) + "]");
        if (action.size() > 1) return malformed("expected END_OBJECT but found [FIELD_NAME]");
        dom::object meta;
        if (meta_el.get_object().get(meta))
            return malformed("expected START_OBJECT or END_OBJECT but found [" + token_name(meta_el) + "]");
        for (auto [mk, v] : meta) {
            if (!is_meta_key(mk))
                return fail(out, 400, "illegal_argument_exception",
                            "Action/metadata line [" + std::to_string(line_no) + "] contains an unknown parameter [" +
                                std::string(mk) + "]");
            if (mk != "_index" && mk != "_id") continue;
            std::string_view sv;
            if (v.is_string()) {
                sv = v.get_string().value_unsafe();
            } else if (v.is_number()) {
                scratch_ = simdjson::minify(v);
                sv = scratch_;
            } else {
                return fail(out, 400, "x_content_parse_exception",
                            "[" + std::to_string(line_no) + ":1] [" + std::string(mk) + "] failed to parse field, expected a string");
            }
            if (mk == "_index") {
                has_index = true;
                if (last_index_len != UINT32_MAX && std::string_view(arena_).substr(last_index_off, last_index_len) == sv) {
                    it.index_off = last_index_off;
                } else {
                    last_index_off = static_cast<uint32_t>(arena_.size());
                    last_index_len = static_cast<uint32_t>(sv.size());
                    arena_.append(sv);
                    it.index_off = last_index_off;
                }
                it.index_len = static_cast<uint32_t>(sv.size());
            } else {
                it.id_off = static_cast<uint32_t>(arena_.size());
                it.id_len = static_cast<uint32_t>(sv.size());
                arena_.append(sv);
            }
        }
        if (!has_index) {
            if (default_index.empty()) {
                problem("index is missing");
            } else {
                it.index_off = static_cast<uint32_t>(arena_.size());
                it.index_len = static_cast<uint32_t>(default_index.size());
                arena_.append(default_index);
            }
        }
        if ((it.kind == op::update || it.kind == op::del) && it.id_len == UINT32_MAX) problem("id is missing");
        if (it.id_len != UINT32_MAX && it.id_len > 512)
            problem("id [" + arena_.substr(it.id_off, it.id_len) + "] is too long, must be no longer than 512 bytes but was: " +
                    std::to_string(it.id_len));
        if (it.kind != op::del) {
            if (p >= end) return fail(out, 400, "illegal_argument_exception", no_newline);
            nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
            std::string_view src(p, static_cast<size_t>(nl - p));
            ++line_no;
            p = nl + 1;
            if (it.kind == op::update) {
                // Update bodies are read (doc / upsert / doc_as_upsert); index and create
                // sources are not parsed at all (benchmark mode).
                dom::element udoc;
                dom::object u;
                if (parser_.parse(src.data(), src.size(), false).get(udoc) || udoc.get_object().get(u))
                    return fail(out, 400, "x_content_parse_exception",
                                "[" + std::to_string(line_no) + ":1] [UpdateRequest] Expected START_OBJECT");
                bool has_doc = false;
                for (auto [k, v] : u) {
                    if (!is_update_key(k))
                        return fail(out, 400, "x_content_parse_exception",
                                    "[" + std::to_string(line_no) + ":" + std::to_string(3 + k.size()) +
                                        "] [UpdateRequest] unknown field [" + std::string(k) + "]");
                    if (k == "doc" || k == "script") has_doc = true;
                    if (k == "upsert") it.upsert = has_doc = true;
                    if (k == "doc_as_upsert" && v.is_bool() && v.get_bool().value_unsafe()) it.upsert = true;
                }
                if (!has_doc) problem("script or doc is missing");
            }
        }
        items_.push_back(it);
    }
    if (n_problems) return fail(out, 400, "action_request_validation_exception", "Validation Failed: " + problems);
    return 200;
}

int bulk_handler::handle(store& s, std::string_view body, std::string_view default_index, std::string& out) {
    auto t0 = std::chrono::steady_clock::now();
    int status = parse(body, default_index, out);
    if (status != 200) return status;
    bool errors = false;
    {
        std::lock_guard lk(s.m);
        std::string_view cached_name;
        index_state* ix = nullptr;
        bool ix_valid = false;
        for (item& it : items_) {
            std::string_view name(arena_.data() + it.index_off, it.index_len);
            if (ix == nullptr || name != cached_name) {
                cached_name = name;
                ix_valid = valid_index_name(name);
                ix = nullptr;
                if (ix_valid) {
                    auto f = s.indices.find(name);
                    if (f == s.indices.end()) f = s.indices.emplace(std::string(name), index_state{}).first;
                    ix = &f->second;
                }
            }
            if (!ix_valid) {
                it.status = 400;
                errors = true;
                continue;
            }
            if (it.id_len == UINT32_MAX) {
                // An id Elasticsearch would generate: 20 URL-safe characters.
                static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                uint64_t n = ++s.next_auto_id;
                uint64_t mixed = n * 0x9e3779b97f4a7c15ULL;
                it.id_off = static_cast<uint32_t>(arena_.size());
                it.id_len = 20;
                for (int i = 0; i < 10; ++i) arena_ += b64[(mixed >> (6 * i)) & 63];
                for (int i = 9; i >= 0; --i) arena_ += b64[(n >> (6 * i)) & 63];
            }
            auto& slot = ix->ids.find_or_insert(hash_id(std::string_view(arena_.data() + it.id_off, it.id_len)));
            bool exists = slot.version != 0 && !slot.deleted;
            switch (it.kind) {
            case op::index:
            case op::create:
                if (exists && it.kind == op::create) {
                    it.status = 409;
                    it.version = slot.version;
                    errors = true;
                    continue;
                }
                it.status = exists ? 200 : 201;
                ++slot.version;
                if (!exists) ++ix->live;
                slot.deleted = false;
                break;
            case op::update:
                if (!exists && !it.upsert) {
                    it.status = 404;
                    errors = true;
                    continue;
                }
                it.status = exists ? 200 : 201;
                ++slot.version;
                if (!exists) ++ix->live;
                slot.deleted = false;
                break;
            case op::del:
                if (exists) {
                    ++slot.version;  // kept as a tombstone: a later create continues from it
                    --ix->live;
                    slot.deleted = true;
                    it.status = 200;
                    it.version = slot.version;
                } else {
                    slot.deleted = true;
                    it.status = 404;
                    it.version = slot.version + 1;
                }
                it.seq_no = ix->seq_no++;
                continue;
            }
            it.version = slot.version;
            it.seq_no = ix->seq_no++;
        }
        std::lock_guard io(s.io_m);
        ++s.st.bulk_requests;
        s.st.bulk_items += items_.size();
        if (errors) ++s.st.bulk_errors;
    }
    // The response, outside the lock.
    out.clear();
    out += R"({"took":)";
    append_uint(out, static_cast<uint64_t>(
                         std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()));
    out += errors ? R"(,"errors":true,"items":[)" : R"(,"errors":false,"items":[)";
    bool first = true;
    for (const item& it : items_) {
        if (!first) out += ',';
        first = false;
        std::string_view name(arena_.data() + it.index_off, it.index_len);
        std::string_view id(arena_.data() + it.id_off, it.id_len);
        out += R"({")";
        out += op_name(static_cast<int>(it.kind));
        out += R"(":{"_index":)";
        append_json_string(out, name);
        if (it.id_len != UINT32_MAX) {
            out += R"(,"_id":)";
            append_json_string(out, id);
        }
        auto error = [&](std::string_view type, std::string reason, bool with_index) {
            out += R"(,"status":)";
            append_uint(out, it.status);
            out += R"(,"error":{"type":")";
            out += type;
            out += R"(","reason":)";
            append_json_string(out, reason);
            if (with_index) {
                out += R"(,"index_uuid":"es-bench-server-uuid","shard":"0","index":)";
                append_json_string(out, name);
            }
            out += "}}}";
        };
        if (it.status == 400) {
            error("invalid_index_name_exception", "Invalid index name [" + std::string(name) + "], must be lowercase and must not contain \\, /, *, ?, \", <, >, |, ` ` (space character), ,, #, :, or start with -, _, +", false);
            continue;
        }
        if (it.status == 409) {
            error("version_conflict_engine_exception",
                  "[" + std::string(id) + "]: version conflict, document already exists (current version [" +
                      std::to_string(it.version) + "])",
                  true);
            continue;
        }
        if (it.status == 404 && it.kind == op::update) {
            error("document_missing_exception", "[" + std::string(id) + "]: document missing", true);
            continue;
        }
        out += R"(,"_version":)";
        append_uint(out, it.version);
        out += R"(,"result":")";
        out += it.status == 201 ? "created" : it.status == 404 ? "not_found" : it.kind == op::del ? "deleted" : "updated";
        out += '"';
        out += shards_json;
        out += R"(,"_seq_no":)";
        append_uint(out, it.seq_no);
        out += R"(,"_primary_term":1,"status":)";
        append_uint(out, it.status);
        out += "}}";
    }
    out += "]}";
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::lock_guard lk(s.io_m);
    s.st.bulk_seconds += secs;
    return 200;
}

}  // namespace es_bench
