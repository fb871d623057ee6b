#include "sds/enrich/warninglist.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>

namespace sds::enrich {

namespace fs = std::filesystem;

namespace {

std::array<uint8_t, 16> masked(const std::array<uint8_t, 16>& b, int bits) {
    std::array<uint8_t, 16> r{};
    for (int i = 0; i < 16; ++i) {
        int n = bits - i * 8;
        if (n >= 8)
            r[i] = b[i];
        else if (n > 0)
            r[i] = uint8_t(b[i] & (0xff << (8 - n)));
    }
    return r;
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return r;
}

// A MISP regex entry is PCRE in delimiters ("/evil\.com$/i"); std::regex takes the body.
std::optional<std::regex> make_regex(std::string_view s) {
    auto flags = std::regex::ECMAScript | std::regex::optimize;
    if (s.size() >= 2 && s.front() == '/') {
        auto end = s.rfind('/');
        if (end > 0) {
            if (s.substr(end + 1).find('i') != std::string_view::npos) flags |= std::regex::icase;
            s = s.substr(1, end - 1);
        }
    }
    try {
        return std::regex(std::string(s), flags);
    } catch (const std::regex_error&) {
        return std::nullopt;
    }
}

}  // namespace

status warninglists::add_list(std::string_view json_text, const std::string& name) {
    simdjson::dom::parser parser;
    simdjson::padded_string text(json_text);
    simdjson::dom::element doc;
    if (auto e = parser.parse(text).get(doc); e)
        return make_error(exit_code::usage, fmt::format("cannot parse warninglist: {} ({})", name, simdjson::error_message(e)));
    std::string_view type;
    if (doc["type"].get(type)) type = "string";
    simdjson::dom::array list;
    if (doc["list"].get(list))
        return make_error(exit_code::usage, fmt::format("cannot parse warninglist: {} (no \"list\" array)", name));
    if (type != "string" && type != "cidr" && type != "hostname" && type != "substring" && type != "regex") {
        skipped.push_back(fmt::format("{} (type {})", name, type));
        return {};
    }
    ++lists_;
    for (auto v : list) {
        std::string_view s;
        if (v.get(s)) continue;
        ++entries_;
        if (type == "cidr") {
            std::optional<ip::network> n = ip::parse_cidr(s);
            if (!n) {
                if (auto a = ip::parse(s)) n = ip::network{*a, a->v4 ? 32 : 128};
            }
            if (!n) continue;
            int bits = n->base.v4 ? n->prefix + 96 : n->prefix;
            by_prefix_[bits].emplace_back(masked(n->base.bytes, bits), true);
            sorted_ = false;
        } else if (type == "hostname") {
            std::string d;
            if (normalize_domain(s, d)) hostnames_.insert(d);
        } else if (type == "string") {
            strings_.insert(lower(s));
            std::string d;
            if (normalize_domain(s, d)) strings_.insert(d);
        } else if (type == "substring") {
            substrings_.push_back(lower(s));
        } else if (auto re = make_regex(s)) {
            regexes_.push_back(std::move(*re));
        }
    }
    sort();
    return {};
}

void warninglists::sort() {
    if (sorted_) return;
    for (auto& v : by_prefix_) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
    }
    sorted_ = true;
}

status warninglists::load(const std::string& path) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        files.emplace_back(path);
    } else if (fs::is_directory(path, ec)) {
        if (fs::exists(fs::path(path) / "list.json")) {
            files.push_back(fs::path(path) / "list.json");
        } else {
            for (const auto& e : fs::recursive_directory_iterator(path, ec)) {
                if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
            }
            std::sort(files.begin(), files.end());
        }
    } else {
        return make_error(exit_code::usage, fmt::format("cannot open warninglists: {} (No such file or directory)", path));
    }
    for (const auto& f : files) {
        auto text = simdjson::padded_string::load(f.string());
        if (text.error())
            return make_error(exit_code::usage, fmt::format("cannot read warninglist: {} ({})", f.string(),
                                                            simdjson::error_message(text.error())));
        std::string_view body(text.value().data(), text.value().size());
        if (auto s = add_list(body, f.string()); !s) return s;
    }
    return {};
}

bool warninglists::covers(const classified& c) const {
    if (c.type == ind_type::ip) {
        int bits = c.net.base.v4 ? c.net.prefix + 96 : c.net.prefix;
        for (int p = 0; p <= bits; ++p) {
            const auto& v = by_prefix_[p];
            if (v.empty()) continue;
            auto key = masked(c.net.base.bytes, p);
            if (std::binary_search(v.begin(), v.end(), std::make_pair(key, true))) return true;
        }
        std::string text = ip::to_string(c.net.base);
        if (strings_.count(text)) return true;
        for (const auto& s : substrings_)
            if (text.find(s) != std::string::npos) return true;
        for (const auto& r : regexes_)
            if (std::regex_search(text, r)) return true;
        return false;
    }
    const std::string& v = c.value;
    if (strings_.count(v)) return true;
    std::string_view host = v;
    if (c.type == ind_type::url) {
        auto p = host.find("://");
        if (p != std::string_view::npos) host.remove_prefix(p + 3);
        host = host.substr(0, host.find_first_of("/:?"));
    }
    if (c.type == ind_type::domain || c.type == ind_type::url) {
        std::string_view d = host;
        while (!d.empty()) {
            if (hostnames_.count(std::string(d))) return true;
            auto dot = d.find('.');
            if (dot == std::string_view::npos) break;
            d.remove_prefix(dot + 1);
        }
    }
    for (const auto& s : substrings_)
        if (v.find(s) != std::string::npos) return true;
    for (const auto& r : regexes_)
        if (std::regex_search(v, r)) return true;
    return false;
}

}  // namespace sds::enrich
