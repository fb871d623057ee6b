#pragma once
// Sigma rules, compiled once and evaluated per record. Supports the detection features that
// CloudTrail rules use: selections as maps (AND) and lists (OR), keyword selections, the
// modifiers contains, startswith, endswith, all, re, cidr, exists, fieldref and expand
// (placeholders), Sigma's wildcards (* ?) and case-insensitive matching, null values, and
// conditions with and/or/not, parentheses, "1 of x*", "all of them". Aggregations, correlations
// and other modifiers are refused at load with the rule's file and the reason.
//
// Field names are CloudTrail's own (eventName, requestParameters.x); on records normalised by
// sds-normalize they are looked up under the ECS names that pySigma's ecs_cloudtrail pipeline
// uses (event.action, aws.cloudtrail.*, …), so raw and ECS records raise the same alerts.
#include <simdjson.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/detect/extract.hpp"

namespace sds::detect {

struct rule_meta {
    std::string id, title, description, author, level, status, file;
    std::vector<std::string> references, tags;
    std::string product, service;
    std::string remediation;  // "{field}" template, or a built-in generator name
    int risk_score = 0;       // from level: 21 low … 99 critical
};

struct refusal {
    std::string file;
    std::string reason;
};

struct compiled_rule;  // opaque

class ruleset {
public:
    ruleset();
    ~ruleset();
    ruleset(ruleset&&) noexcept;

    // Placeholder values for the expand modifier (%name%).
    void set_placeholder(std::string name, std::vector<std::string> values);
    // Loads a rule file or every *.yml / *.yaml below a folder. A file that is not YAML at all
    // is an error (exit 2); a rule using what sds cannot evaluate is refused with its reason.
    status load_path(const std::string& path, const std::string& ruleset_name = "sigma");
    // Loads one rule (or a multi-document YAML text) from memory.
    status load_text(std::string_view yaml, const std::string& file, const std::string& ruleset_name);

    size_t size() const noexcept { return rules_.size(); }
    const std::vector<refusal>& refused() const noexcept { return refused_; }
    const rule_meta& meta(size_t i) const;
    const std::string& ruleset_of(size_t i) const;

    // Indices of the rules that match `record`, appended to hits (in load order). Only the
    // rules dispatched on the record's eventName and those that cannot be dispatched are
    // evaluated. Uses scratch buffers kept in the ruleset: one record at a time per ruleset.
    void match(simdjson::dom::element record, std::vector<uint32_t>& hits) const;
    // After match(): 1 when that record has the top-level member (event, rule, threat or sds),
    // 0 when not, -1 when not known (look at the record).
    int matched_has(std::string_view member) const noexcept;

    // Rules that are evaluated on every record (dispatched neither by eventName nor by another field).
    size_t undispatched() const noexcept { return always_.size(); }

    // Expands a remediation template against a record (empty when a field is missing).
    std::string render_remediation(size_t rule, simdjson::dom::element record) const;
    // The same, appended to `out`; false (and `out` unchanged) when nothing was rendered.
    bool render_remediation(size_t rule, simdjson::dom::element record, std::string& out) const;

private:
    status add_rule(const void* yaml_node, const std::string& file, const std::string& ruleset_name);
    std::vector<std::unique_ptr<compiled_rule>> rules_;
    std::vector<refusal> refused_;
    std::map<std::string, std::vector<std::string>> placeholders_;
    // Dispatch: lower-cased eventName -> rules that can only match that name (looked up with
    // a string_view: no key string per record).
    struct name_hash {  // ASCII case-insensitive, from the length and five bytes: no lower-cased copy,
                        // and cheap when libstdc++ rehashes nodes to find a bucket's end
        using is_transparent = void;
        static uint64_t low(char c) noexcept { return static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c); }
        size_t operator()(std::string_view s) const noexcept {
            const size_t n = s.size();
            uint64_t h = n * 0x9E3779B97F4A7C15ull;
            if (n) {
                h ^= low(s[0]) | low(s[n / 4]) << 8 | low(s[n / 2]) << 16 | low(s[3 * n / 4]) << 24 | low(s[n - 1]) << 32;
                h *= 0xFF51AFD7ED558CCDull;
                h ^= h >> 29;
            }
            return static_cast<size_t>(h);
        }
    };
    struct name_eq {  // ASCII case-insensitive
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const noexcept {
            if (a.size() != b.size()) return false;
            for (size_t i = 0; i < a.size(); ++i) {
                char x = a[i], y = b[i];
                if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
                if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
                if (x != y) return false;
            }
            return true;
        }
    };
    // Lower-cased key -> rules, in open addressing with the hashes kept: a probe compares a
    // stored hash before any bytes.
    class dispatch_map {
    public:
        std::vector<uint32_t>& operator[](const std::string& key) {
            const size_t h = name_hash{}(key);
            for (auto& e : entries_)
                if (e.hash == h && e.key == key) return e.rules;
            entries_.push_back({h, key, {}});
            size_t size = 8;
            while (size < entries_.size() * 4) size *= 2;
            slots_.assign(size, 0);
            mask_ = size - 1;
            for (size_t i = 0; i < entries_.size(); ++i) {
                size_t j = entries_[i].hash & mask_;
                while (slots_[j]) j = (j + 1) & mask_;
                slots_[j] = static_cast<uint32_t>(i + 1);
            }
            return entries_.back().rules;
        }
        const std::vector<uint32_t>* find(std::string_view key) const noexcept {
            if (slots_.empty()) return nullptr;
            const size_t h = name_hash{}(key);
            for (size_t j = h & mask_;; j = (j + 1) & mask_) {
                uint32_t x = slots_[j];
                if (!x) return nullptr;
                const entry& e = entries_[x - 1];
                if (e.hash == h && name_eq{}(e.key, key)) return &e.rules;
            }
        }

    private:
        struct entry {
            size_t hash;
            std::string key;
            std::vector<uint32_t> rules;
        };
        std::vector<entry> entries_;
        std::vector<uint32_t> slots_;
        size_t mask_ = 0;
    };
    dispatch_map by_event_;
    // Rules without an eventName to dispatch on, by the exact values of another field.
    struct value_dispatch {
        uint32_t fid;
        std::string field;
        dispatch_map rules;
    };
    std::vector<value_dispatch> by_value_;
    std::vector<uint32_t> always_;
    std::vector<std::string> fields_;  // distinct field names of all rules ("" = keywords)
    field_extractor extractor_;        // their top-level members indexed once per record
    struct scratch;
    std::unique_ptr<scratch> scratch_;
};

// Values of a field in a record, under its CloudTrail name or its ECS name; arrays on the way
// are walked (any element may match). Exposed for tests.
void field_values(simdjson::dom::element record, std::string_view field, std::vector<simdjson::dom::element>& out);
// The same, with the record's kind cached in `ecs` (-1 unknown, then 0 raw, 1 ECS) for the next
// lookups in the same record.
void field_values(simdjson::dom::element record, std::string_view field, std::vector<simdjson::dom::element>& out,
                  int& ecs);

}  // namespace sds::detect
