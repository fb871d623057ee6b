#pragma once
// Test helper: compares the leaf fields our text parsers produce with the documents Elastic's
// ingest pipelines produce for the same lines (../shared/testdata/ecs-pipeline/*-expected.json).
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sds/formats/text_format.hpp"

namespace sds::test {

inline std::string shared_testdata(const std::string& rel) { return std::string(SDS_SHARED_TESTDATA) + "/" + rel; }
inline bool have_shared_testdata() { return std::filesystem::exists(SDS_SHARED_TESTDATA); }

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

// Fields that need another stage (geo/as enrichment, UA database) or are artefacts of the
// ingest machinery; they are not the parser's to produce.
inline bool skipped_field(const std::string& path) {
    if (path == "user_agent.original") return false;
    static const char* exact[] = {"event.ingested", "ecs.version", "tags",          "event.original",
                                  "event.created",  "input.type",  "log.offset",    "log.file.path"};
    for (const char* e : exact)
        if (path == e) return true;
    if (path.starts_with("user_agent.") || path.starts_with("data_stream.")) return true;
    for (const char* p : {".geo.", ".as."})
        if (path.find(p) != std::string::npos) return true;
    return false;
}

// Leaf path → canonical value text. Arrays are leaves; a one-element array equals its element
// (Elasticsearch indexes both the same way). Numbers are canonicalised so 5 == 5.0.
inline void flatten(simdjson::dom::element e, const std::string& path, std::map<std::string, std::string>& out) {
    using simdjson::dom::element_type;
    auto scalar = [](simdjson::dom::element v) -> std::string {
        switch (v.type()) {
            case element_type::STRING: return "\"" + std::string(std::string_view(v.get_string())) + "\"";
            case element_type::INT64:
            case element_type::UINT64:
            case element_type::DOUBLE: {
                double x = v.type() == element_type::DOUBLE ? double(v.get_double())
                           : v.type() == element_type::INT64 ? double(int64_t(v.get_int64()))
                                                            : double(uint64_t(v.get_uint64()));
                char buf[64];
                std::snprintf(buf, sizeof buf, "%.17g", x);
                return buf;
            }
            case element_type::BOOL: return bool(v.get_bool()) ? "true" : "false";
            case element_type::NULL_VALUE: return "null";
            default: return simdjson::to_string(v);
        }
    };
    if (e.type() == element_type::OBJECT) {
        for (auto [k, v] : e.get_object()) flatten(v, path.empty() ? std::string(k) : path + "." + std::string(k), out);
        return;
    }
    if (e.type() == element_type::ARRAY) {
        auto arr = e.get_array();
        if (arr.size() == 1 && (*arr.begin()).type() != element_type::OBJECT) {
            out[path] = scalar(*arr.begin());
            return;
        }
        std::string s = "[";
        for (auto x : arr) s += scalar(x) + ",";
        out[path] = s + "]";
        return;
    }
    out[path] = scalar(e);
}

struct figures {
    size_t expected = 0, matched = 0, missing = 0, different = 0, extra = 0, docs = 0, rejected = 0;
    std::vector<std::string> notes;
    double ratio() const { return expected ? double(matched) / double(expected) : 1.0; }
    std::string summary(const std::string& name) const {
        char buf[256];
        std::snprintf(buf, sizeof buf, "%s: %zu docs, %zu expected fields, %zu matched (%.1f%%), %zu missing, %zu different, %zu extra, %zu rejected",
                      name.c_str(), docs, expected, matched, 100.0 * ratio(), missing, different, extra, rejected);
        return buf;
    }
};

using parse_fn = std::function<formats::parse_status(std::string_view, json::doc_builder&)>;

// Parses every line, pairs each expected document with the line whose output matches it best
// (Elastic's expected files are not always in input order), and counts leaf agreement.
inline figures compare_with_expected(const std::vector<std::string>& lines, const std::string& expected_path,
                                     const parse_fn& parse) {
    figures f;
    simdjson::dom::parser p_expected;
    std::vector<std::map<std::string, std::string>> want;
    simdjson::dom::element root = p_expected.load(expected_path);
    for (auto doc : root["expected"].get_array()) {
        std::map<std::string, std::string> m, kept;
        flatten(doc, "", m);
        for (auto& [k, v] : m)
            if (!skipped_field(k)) kept[k] = v;
        want.push_back(std::move(kept));
    }
    std::vector<std::map<std::string, std::string>> got;
    for (const auto& line : lines) {
        json::doc_builder b;
        auto st = parse(line, b);
        std::map<std::string, std::string> m;
        if (!st) {
            ++f.rejected;
            f.notes.push_back("rejected: " + st.err().message + ": " + line);
        } else {
            simdjson::dom::parser p;
            std::string s = b.str();
            flatten(p.parse(s), "", m);
        }
        got.push_back(std::move(m));
    }
    std::vector<bool> used(got.size(), false);
    for (const auto& w : want) {
        ++f.docs;
        size_t best = SIZE_MAX, best_score = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            if (used[i]) continue;
            size_t score = 0;
            for (auto& [k, v] : w)
                if (auto it = got[i].find(k); it != got[i].end() && it->second == v) ++score;
            if (best == SIZE_MAX || score > best_score) best = i, best_score = score;
        }
        static const std::map<std::string, std::string> none;
        const auto& g = best == SIZE_MAX ? none : got[best];
        if (best != SIZE_MAX) used[best] = true;
        for (auto& [k, v] : w) {
            ++f.expected;
            auto it = g.find(k);
            if (it == g.end()) {
                ++f.missing;
                f.notes.push_back("doc " + std::to_string(f.docs - 1) + " missing " + k + " = " + v);
            } else if (it->second != v) {
                ++f.different;
                f.notes.push_back("doc " + std::to_string(f.docs - 1) + " different " + k + ": want " + v + " got " + it->second);
            } else {
                ++f.matched;
            }
        }
        for (auto& [k, v] : g)
            if (!w.count(k) && !skipped_field(k)) ++f.extra;
    }
    return f;
}

}  // namespace sds::test
