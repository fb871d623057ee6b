#include "sds/json/path.hpp"

#include "sds/json/escape.hpp"

namespace sds::json {

std::optional<simdjson::dom::element> find(simdjson::dom::element root, std::string_view path) {
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) return std::nullopt;
    // Exact key first (covers the whole path as one dotted key, and plain keys).
    simdjson::dom::element v;
    if (!obj.at_key(path).get(v)) return v;
    // Then every split point: "a" + "b.c", "a.b" + "c", ...
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
        simdjson::dom::element child;
        if (obj.at_key(path.substr(0, dot)).get(child)) continue;
        if (auto r = find(child, path.substr(dot + 1))) return r;
    }
    return std::nullopt;
}

std::optional<std::string_view> find_string(simdjson::dom::element root, std::string_view path) {
    auto e = find(root, path);
    if (!e) return std::nullopt;
    std::string_view s;
    if (e->get_string().get(s)) return std::nullopt;
    return s;
}

std::optional<std::string_view> find_scalar_text(simdjson::dom::element root, std::string_view path,
                                                 std::string& scratch) {
    auto e = find(root, path);
    if (!e) return std::nullopt;
    switch (e->type()) {
        case simdjson::dom::element_type::STRING: return std::string_view(*e);
        case simdjson::dom::element_type::INT64:
            scratch.clear();
            append_int(scratch, int64_t(*e));
            return std::string_view(scratch);
        case simdjson::dom::element_type::UINT64:
            scratch.clear();
            append_uint(scratch, uint64_t(*e));
            return std::string_view(scratch);
        case simdjson::dom::element_type::DOUBLE:
            scratch.clear();
            append_double(scratch, double(*e));
            return std::string_view(scratch);
        case simdjson::dom::element_type::BOOL:
            return bool(*e) ? std::string_view("true") : std::string_view("false");
        default: return std::nullopt;
    }
}

}  // namespace sds::json
