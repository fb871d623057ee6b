#pragma once
// Field paths: "a.b.c" finds {"a":{"b":{"c":…}}}, {"a.b":{"c":…}}, {"a":{"b.c":…}} and
// {"a.b.c":…} alike, as Elasticsearch treats dotted keys and nested objects as one field.
#include <simdjson.h>

#include <optional>
#include <string_view>

namespace sds::json {

std::optional<simdjson::dom::element> find(simdjson::dom::element root, std::string_view path);

// Convenience: the string at `path`, if present and a string.
std::optional<std::string_view> find_string(simdjson::dom::element root, std::string_view path);

// The value at `path` rendered as text: strings as they are, numbers and booleans in JSON form.
// Arrays/objects/null give nullopt.
std::optional<std::string_view> find_scalar_text(simdjson::dom::element root, std::string_view path,
                                                 std::string& scratch);

}  // namespace sds::json
