#pragma once
// One pass over a record for every field the rules read. At load time each field's dotted path
// (and its ECS name, see fields.cpp) becomes a chain of object keys in a trie; per record the
// record's members are walked once, each key looked up in its trie node's small hash table, and
// the values of every field collected by field id, with arrays on the way walked as
// field_values() walks them. Keys no rule reads cost one hash probe; subtrees no rule reads are
// not entered.
//
// field_values() also tries dotted keys ("userIdentity.type" as one member) before nested ones.
// A record with such a key, or with a key twice in one object, is not extracted (extract()
// returns false) and its fields are looked up one by one as before: same values either way.
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sds::detect {

// The ECS name field_values() falls back to for a CloudTrail field on a normalised record
// (empty when there is none).
std::string ecs_path(std::string_view field);
// True for a normalised (ECS) record: it has ecs.version or event.dataset.
bool is_ecs_record(simdjson::dom::element record);

class field_extractor {
public:
    struct value {
        uint32_t slot;
        simdjson::dom::element e;
    };
    // Field `fid` (a CloudTrail name, non-empty): its values go to slot 2*fid, those under its
    // ECS name to slot 2*fid+1.
    void add(uint32_t fid, std::string_view field);
    // Also notes whether the record has these top-level members (first occurrence), for root().
    void track_root(std::string_view member);
    size_t slots() const noexcept { return slots_; }

    // Appends the record's values to `out` (any order). False when the record has a dotted key
    // or a repeated key the rules' paths meet: then `out` is incomplete, use field_values().
    bool extract(simdjson::dom::element record, std::vector<value>& out) const;
    // After a successful extract(): the tracked top-level member `i` (in track_root() order),
    // or false.
    bool root(size_t i, simdjson::dom::element& e) const {
        if (root_seen_[i] != visit_root_) return false;
        e = root_val_[i];
        return true;
    }

private:
    struct edge {
        std::string key;
        uint32_t child = UINT32_MAX;  // node index
        std::vector<uint32_t> slots;  // values of this member go to these slots
        int32_t root_track = -1;      // index of a tracked top-level member
        bool dotted = false;          // a key with a dot: the record takes the per-field path
        mutable uint64_t seen = 0;    // visit stamp: a repeated key
    };
    struct node {
        std::vector<edge> edges;
        std::vector<uint32_t> table;  // open addressing: edge index + 1, 0 empty; size a power of 2
        uint32_t mask = 0;
    };
    static uint32_t hash(std::string_view k) noexcept {
        uint32_t h = static_cast<uint32_t>(k.size()) * 0x9E3779B1u;
        if (!k.empty()) {
            h ^= static_cast<unsigned char>(k[0]) * 0x85EBCA77u;
            h ^= static_cast<unsigned char>(k[k.size() - 1]) * 0xC2B2AE3Du;
            if (k.size() > 2) h ^= static_cast<unsigned char>(k[k.size() / 2]) * 0x27D4EB2Fu;
        }
        return h ^ (h >> 15);
    }
    static bool same(const char* a, const char* b, size_t n) noexcept {  // inline: keys are short
        for (; n >= 8; a += 8, b += 8, n -= 8) {
            uint64_t x, y;
            std::memcpy(&x, a, 8);
            std::memcpy(&y, b, 8);
            if (x != y) return false;
        }
        for (; n; ++a, ++b, --n)
            if (*a != *b) return false;
        return true;
    }
    uint32_t edge_of(uint32_t n, std::string_view key);  // finds or adds
    void add_path(std::string_view path, uint32_t slot);
    void rebuild(uint32_t n);
    const edge* find(const node& n, std::string_view key) const noexcept {
        if (n.table.empty()) return nullptr;
        for (uint32_t i = hash(key) & n.mask;; i = (i + 1) & n.mask) {
            uint32_t x = n.table[i];
            if (!x) return nullptr;
            const edge& e = n.edges[x - 1];
            if (e.key.size() == key.size() && same(e.key.data(), key.data(), key.size())) return &e;
        }
    }
    bool visit(const node& n, simdjson::dom::element v, std::vector<value>& out, bool is_root) const;

    std::vector<node> nodes_{1};
    size_t slots_ = 0;
    size_t tracked_ = 0;
    mutable uint64_t visit_ = 0, visit_root_ = 0;
    mutable std::vector<uint64_t> root_seen_;
    mutable std::vector<simdjson::dom::element> root_val_;
};

}  // namespace sds::detect
