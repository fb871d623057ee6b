#pragma once
// The top-level members of a record the rules' fields start with, indexed in one pass; each
// field's values are then looked up only when a rule that is tried reads it. At load time
// every field's dotted path (and its ECS name, see fields.cpp) is split into its first member
// and the rest; per record the top-level members are walked once, each key looked up in a
// small hash table, and a field's values are the walk of the rest of its path below that
// member, as field_values() walks it (arrays on the way, dotted keys below the top level).
//
// field_values() also tries dotted keys ("userIdentity.type" as one member) before nested ones.
// A record with such a top-level key is not indexed (index() returns false) and its fields are
// looked up one by one as before: same values either way. A repeated top-level key keeps its
// first value, as field_values() does.
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
    field_extractor();
    // Field `fid`: looked up under `field` (a CloudTrail name, non-empty), and under its ECS
    // name on an ECS record where the CloudTrail name has no value.
    void add(uint32_t fid, std::string_view field);
    // Also notes whether the record has these top-level members (first occurrence), for root().
    void track_root(std::string_view member);

    // Indexes the record's top-level members. False when the record is not an object or has a
    // dotted top-level key some field could also be spelt with: then use field_values().
    bool index(simdjson::dom::element record) const;
    // After a successful index(): appends field `fid`'s values to `out`, as field_values()
    // would; `ecs` caches the record's kind (-1 unknown, 0 raw, 1 ECS) between lookups.
    void values(uint32_t fid, std::vector<simdjson::dom::element>& out, int& ecs) const;
    // After a successful index(): the tracked top-level member `i` (in track_root() order),
    // or false.
    bool root(size_t i, simdjson::dom::element& e) const {
        uint32_t k = tracked_[i];
        if (seen_[k] != stamp_) return false;
        e = val_[k];
        return true;
    }
    // After a successful index(): the record is ECS (it has ecs.version or event.dataset).
    bool is_ecs() const;

private:
    struct edge {
        std::string key;
        bool dotted = false;  // a key with a dot: the record takes the per-field path
    };
    struct path {
        uint32_t edge = UINT32_MAX;  // the first member (UINT32_MAX: none)
        std::string rest;            // below it ("" for the member itself)
    };
    struct field {
        path raw, ecs;
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
    uint32_t edge_of(std::string_view key);  // finds or adds
    path add_path(std::string_view p);
    void rebuild();
    uint32_t find(std::string_view key) const noexcept {
        for (uint32_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
            uint32_t x = table_[i];
            if (!x) return UINT32_MAX;
            const edge& e = edges_[x - 1];
            if (e.key.size() == key.size() && same(e.key.data(), key.data(), key.size())) return x - 1;
        }
    }
    void lookup(const path& p, std::vector<simdjson::dom::element>& out) const;

    std::vector<edge> edges_;
    std::vector<uint32_t> table_;  // open addressing: edge index + 1, 0 empty; size a power of 2
    uint32_t mask_ = 0;
    std::vector<field> fields_;     // by fid
    std::vector<uint32_t> tracked_;  // root() index -> edge
    uint32_t ecs_edge_ = 0, event_edge_ = 0;
    // Records of one source list their members in the same order: position i remembers the key
    // it had last time and that key's edge (UINT32_MAX: none), checked before the hash table.
    struct guess {
        std::string key;
        uint32_t edge = UINT32_MAX;
    };
    mutable std::vector<guess> guess_;
    mutable uint64_t stamp_ = 0;
    mutable std::vector<uint64_t> seen_;  // per edge: the stamp of the record that has it
    mutable std::vector<simdjson::dom::element> val_;
};

}  // namespace sds::detect
