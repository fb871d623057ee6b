#include "sds/enrich/fields.hpp"

#include <cstring>

#include "sds/json/path.hpp"

namespace sds::enrich {

namespace {
constexpr uint32_t nowhere = UINT32_MAX;
}

uint32_t field_finder::kid(uint32_t at, std::string_view seg) const {
    for (uint32_t k : nodes_[at].kids) {
        const std::string& s = nodes_[k].seg;
        if (s.size() == seg.size() && std::memcmp(s.data(), seg.data(), seg.size()) == 0) return k;
    }
    return nowhere;
}

size_t field_finder::add(std::string_view path) {
    uint32_t at = 0;
    std::string_view rest = path;
    while (true) {
        auto dot = rest.find('.');
        std::string_view seg = rest.substr(0, dot);
        uint32_t k = kid(at, seg);
        if (k == nowhere) {
            k = uint32_t(nodes_.size());
            nodes_.push_back(node{std::string(seg), {}, -1, 0});
            nodes_[at].kids.push_back(k);
        }
        at = k;
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
    }
    if (nodes_[at].field < 0) {
        nodes_[at].field = int(paths_.size());
        paths_.emplace_back(path);
        found_.emplace_back();
        count_.push_back(0);
    }
    return size_t(nodes_[at].field);
}

void field_finder::visit(simdjson::dom::object obj, uint32_t at) {
    uint32_t stamp = ++visits_;
    for (auto [key, value] : obj) {
        // Follow the key's dot-separated segments down the tree.
        // (Keys are short: a plain loop beats a library search call per key.)
        uint32_t n = at;
        size_t from = 0;
        while (n != nowhere) {
            size_t dot = from;
            while (dot < key.size() && key[dot] != '.') ++dot;
            n = kid(n, key.substr(from, dot - from));
            if (dot == key.size()) break;
            from = dot + 1;
        }
        if (n == nowhere) continue;
        node& nd = nodes_[n];
        // The same key twice in one object: json::find sees only the first.
        if (nd.visit == stamp) repeated_ = true;
        nd.visit = stamp;
        if (nd.field >= 0) {
            if (count_[nd.field]++ == 0) {
                found_[nd.field] = value;
                hit_.push_back(uint32_t(nd.field));
            }
        }
        simdjson::dom::object child;
        if (!nd.kids.empty() && !value.get(child)) visit(child, n);
    }
}

void field_finder::scan(simdjson::dom::element root) {
    for (uint32_t id : hit_) count_[id] = 0;
    hit_.clear();
    repeated_ = false;
    simdjson::dom::object obj;
    if (root.get(obj)) return;
    visit(obj, 0);
    if (repeated_) {
        // Repeated keys: every answer from json::find, which reads the first of each.
        for (uint32_t id : hit_) count_[id] = 0;
        hit_.clear();
        for (size_t id = 0; id < paths_.size(); ++id)
            if (auto e = json::find(root, paths_[id])) {
                found_[id] = *e;
                count_[id] = 1;
                hit_.push_back(uint32_t(id));
            }
        return;
    }
    // A path spelled more than one way ({"a.b":1,"a":{"b":2}}): json::find's order decides.
    for (uint32_t id : hit_)
        if (count_[id] > 1) {
            if (auto e = json::find(root, paths_[id])) found_[id] = *e;
        }
}

}  // namespace sds::enrich
