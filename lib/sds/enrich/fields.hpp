#pragma once
// The record fields sds-enrich reads, found in one walk over the record instead of one
// json::find per field: the paths are compiled into a tree of key segments, and each object on
// the way is read once. Answers are json::find's: dotted keys and nested objects alike
// ("a.b" / {"a":{"b"}}); a path that the record spells more than one way is left to
// json::find, whose order of preference then decides.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sds::enrich {

class field_finder {
public:
    // Registers `path` ("a.b.c"); the same path gives the same id.
    size_t add(std::string_view path);
    // Finds every registered path in `root` (an object; anything else finds nothing).
    void scan(simdjson::dom::element root);
    // The value at path `id` in the last scanned record.
    std::optional<simdjson::dom::element> get(size_t id) const {
        if (count_[id] == 0) return std::nullopt;
        return found_[id];
    }

private:
    struct node {
        std::string seg;
        std::vector<uint32_t> kids;
        int field = -1;
        uint32_t visit = 0;  // the last visit() that met this node's key
    };
    void visit(simdjson::dom::object obj, uint32_t at);
    uint32_t kid(uint32_t at, std::string_view seg) const;
    std::vector<node> nodes_{node{}};
    std::vector<std::string> paths_;
    std::vector<simdjson::dom::element> found_;
    std::vector<uint32_t> count_;
    std::vector<uint32_t> hit_;  // ids found in this record (to reset them)
    uint32_t visits_ = 0;
    bool repeated_ = false;
};

}  // namespace sds::enrich
