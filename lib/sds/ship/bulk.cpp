#include "sds/ship/bulk.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "sds/core/hash.hpp"
#include "sds/core/time.hpp"
#include "sds/json/escape.hpp"
#include "sds/json/path.hpp"

namespace sds::ship {

namespace {

bool bad_index_char(char c) {
    switch (c) {
        case '\\': case '/': case '*': case '?': case '"': case '<': case '>': case '|': case ' ':
        case ',': case '#': case ':':
            return true;
        default: return static_cast<unsigned char>(c) < 0x20;
    }
}

std::optional<time::millis> read_time(simdjson::dom::element v) {
    if (v.is_string()) {
        std::string_view s = v.get_string().value_unsafe();
        if (auto t = time::parse_iso8601(s)) return t;
        return time::parse_epoch(s);
    }
    if (v.is_int64()) {
        int64_t n = v.get_int64().value_unsafe();
        return n > 100'000'000'000LL ? n : n * 1000;  // millis or seconds, by magnitude
    }
    if (v.is_uint64()) return static_cast<time::millis>(v.get_uint64().value_unsafe());
    if (v.is_double()) {
        double d = v.get_double().value_unsafe();
        return static_cast<time::millis>(d > 1e11 ? d : d * 1000.0);
    }
    return std::nullopt;
}

}  // namespace

expected<index_template> index_template::parse(std::string_view text) {
    index_template t;
    if (text.empty()) return make_error(exit_code::usage, "--index: empty template");
    std::string lit;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '{') {
            size_t close = text.find('}', i);
            if (close == std::string_view::npos)
                return make_error(exit_code::usage, fmt::format("--index: unclosed '{{' in {}", text));
            std::string_view inner = text.substr(i + 1, close - i - 1);
            if (!lit.empty()) t.parts_.push_back({std::move(lit), {}, {}}), lit.clear();
            part p;
            size_t colon = inner.find(':');
            p.field = std::string(inner.substr(0, colon));
            if (colon != std::string_view::npos) p.time_format = std::string(inner.substr(colon + 1));
            if (p.field.empty()) return make_error(exit_code::usage, fmt::format("--index: empty field in {}", text));
            if (colon != std::string_view::npos && p.time_format.empty())
                return make_error(exit_code::usage, fmt::format("--index: empty time format in {}", text));
            t.parts_.push_back(std::move(p));
            i = close + 1;
        } else if (c == '}') {
            return make_error(exit_code::usage, fmt::format("--index: unmatched '}}' in {}", text));
        } else {
            lit.push_back(c);
            ++i;
        }
    }
    if (!lit.empty()) t.parts_.push_back({std::move(lit), {}, {}});
    return t;
}

std::optional<std::string> index_template::render(simdjson::dom::element doc, std::string& out) const {
    out.clear();
    std::string scratch;
    for (const auto& p : parts_) {
        if (p.field.empty()) {
            out += p.text;
            continue;
        }
        if (!p.time_format.empty()) {
            auto v = json::find(doc, p.field);
            if (!v) return fmt::format("index template: no {} in the record", p.field);
            auto t = read_time(*v);
            if (!t) return fmt::format("index template: {} is not a time", p.field);
            std::time_t secs = static_cast<std::time_t>(std::floor(static_cast<double>(*t) / 1000.0));
            std::tm tm{};
            gmtime_r(&secs, &tm);
            char buf[128];
            size_t n = std::strftime(buf, sizeof buf, p.time_format.c_str(), &tm);
            for (size_t k = 0; k < n; ++k) out.push_back(bad_index_char(buf[k]) ? '_' : buf[k]);
            continue;
        }
        auto v = json::find_scalar_text(doc, p.field, scratch);
        if (!v || v->empty()) return fmt::format("index template: no {} in the record", p.field);
        for (char c : *v) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            out.push_back(bad_index_char(c) ? '_' : c);
        }
    }
    return std::nullopt;
}

std::optional<std::string> document_id(simdjson::dom::element doc, std::string_view raw, id_mode mode,
                                       std::string_view field) {
    id_buffers b;
    if (!document_id(doc, raw, mode, field, b)) return std::nullopt;
    return std::move(b.id);
}

bool document_id(simdjson::dom::element doc, std::string_view raw, id_mode mode, std::string_view field,
                 id_buffers& b) {
    b.id.clear();
    switch (mode) {
        case id_mode::none: return false;
        case id_mode::field: {
            auto v = json::find_scalar_text(doc, field, b.scratch1);
            if (!v || v->empty()) return false;
            b.id.assign(*v);
            return true;
        }
        case id_mode::derived: break;
    }
    b.key.clear();
    auto id = json::find_scalar_text(doc, "event.id", b.scratch1);
    if (!id) {
        b.key.push_back('\x1e');
        b.key.append(raw);
    } else {
        auto ds = json::find_scalar_text(doc, "event.dataset", b.scratch2);
        if (ds) b.key.append(*ds);
        b.key.push_back('\x1f');
        b.key.append(*id);
    }
    hash::append_hex128(b.id, b.key);
    return true;
}

void append_action(std::string& out, op_type op, std::string_view index, const std::optional<std::string>& id) {
    append_action(out, op, index, id ? &*id : nullptr);
}

void append_action(std::string& out, op_type op, std::string_view index, const std::string* id) {
    out += op == op_type::create ? "{\"create\":{\"_index\":" : "{\"index\":{\"_index\":";
    json::append_string(out, index);
    if (id) {
        out += ",\"_id\":";
        json::append_string(out, *id);
    }
    out += "}}\n";
}

item_fate classify_item(int status, op_type op) {
    if (status >= 200 && status < 300) return item_fate::delivered;
    if (status == 409 && op == op_type::create) return item_fate::already_present;
    if (status == 429 || status >= 500) return item_fate::retry;
    return item_fate::reject;
}

request_fate classify_request(long s) {
    if (s >= 200 && s < 300) return request_fate::parse_items;
    if (s == 0 || s == 408 || s == 429 || s >= 500) return request_fate::retry;
    if (s == 413) return request_fate::split;
    if (s == 401 || s == 403) return request_fate::fatal_auth;
    if (s == 400) return request_fate::reject_all;
    return request_fate::fatal;
}

expected<bulk_response> parse_bulk_response(std::string_view body, size_t expected_items) {
    // One parser and one padded copy per thread, kept: a response is ~150 bytes per item, and a
    // fresh parser would allocate (and page-fault) its tape for every request.
    thread_local simdjson::dom::parser parser;
    thread_local std::string padded;
    padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    padded.assign(body);
    simdjson::dom::element root;
    if (parser.parse(padded.data(), padded.size(), false).get(root) != simdjson::SUCCESS || !root.is_object())
        return make_error(exit_code::runtime, "bulk response is not JSON");
    bulk_response r;
    bool errors = false;
    if (root["errors"].get(errors) != simdjson::SUCCESS)
        return make_error(exit_code::runtime, "bulk response has no \"errors\"");
    simdjson::dom::array items;
    if (root["items"].get(items) != simdjson::SUCCESS)
        return make_error(exit_code::runtime, "bulk response has no \"items\"");
    size_t n = items.size();
    if (n != expected_items)
        return make_error(exit_code::runtime,
                          fmt::format("bulk response has {} items for {} documents sent", n, expected_items));
    r.errors = errors;
    if (!errors) return r;
    r.results.reserve(n);
    for (simdjson::dom::element it : items) {
        item_result ir;
        simdjson::dom::object o;
        if (it.get(o) != simdjson::SUCCESS || o.size() != 1)
            return make_error(exit_code::runtime, "bulk response item is not {\"op\":{...}}");
        simdjson::dom::element inner = (*o.begin()).value;
        int64_t st = 0;
        if (inner["status"].get(st) != simdjson::SUCCESS) return make_error(exit_code::runtime, "bulk item has no status");
        ir.status = static_cast<int>(st);
        simdjson::dom::element err;
        if (inner["error"].get(err) == simdjson::SUCCESS) {
            std::string_view s;
            if (err.is_string()) {
                ir.reason = std::string(err.get_string().value_unsafe());
            } else {
                if (err["type"].get(s) == simdjson::SUCCESS) ir.type = std::string(s);
                if (err["reason"].get(s) == simdjson::SUCCESS) ir.reason = std::string(s);
                if (err["caused_by"]["reason"].get(s) == simdjson::SUCCESS) {
                    ir.reason += ": ";
                    ir.reason += s;
                }
            }
        }
        r.results.push_back(std::move(ir));
    }
    return r;
}

std::string item_reason(const item_result& r) {
    if (r.type.empty()) return fmt::format("elasticsearch: {} (status {})", r.reason.empty() ? "error" : r.reason, r.status);
    return fmt::format("elasticsearch: {}: {} (status {})", r.type, r.reason, r.status);
}

double backoff_seconds(int attempt, double base, double cap, double unit) {
    double d = base * std::pow(2.0, std::max(0, attempt - 1));
    d = std::min(d, cap);
    return d / 2 + unit * d / 2;
}

void gzip_compress(std::string_view in, std::string& out, int level) {
    z_stream z{};
    deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    size_t start = out.size();
    out.resize(start + deflateBound(&z, in.size()) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    z.avail_out = static_cast<uInt>(out.size() - start);
    deflate(&z, Z_FINISH);
    out.resize(start + z.total_out);
    deflateEnd(&z);
}

}  // namespace sds::ship
