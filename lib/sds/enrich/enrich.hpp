#pragma once
// sds-enrich: GeoIP/ASN for the IP fields of ECS records and threat-intelligence matches into
// threat.enrichments[], patched into each record without re-serialising the rest.
#include <array>
#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/enrich/feeds.hpp"
#include "sds/enrich/fields.hpp"
#include "sds/enrich/geo.hpp"
#include "sds/enrich/store.hpp"
#include "sds/json/patch.hpp"

namespace sds::enrich {

struct options {
    std::vector<std::string> inputs;
    std::string geoip, asn;
    std::vector<std::string> ip_fields;
    std::vector<std::string> intel;
    std::string intel_column;
    std::string intel_max_age;  // duration, "" = none
    bool include_non_ids = false;
    std::vector<std::string> warninglists;
    std::string misp_url, misp_key_file, misp_cacert;
    std::string intel_ttl = "1h";
    std::string intel_cache;
    size_t cache_size = 16384;
};

void add_options(cli::tool& t, options& o);

// Everything loaded before the first record: databases, indicators, warninglists.
struct context {
    std::unique_ptr<geo_enricher> geo;
    store intel;
    warninglists wl;
    load_stats intel_stats;
};

// Loads databases and intelligence (errors: usage for bad files, runtime for network).
expected<std::unique_ptr<context>> prepare(cli::tool& t, const options& o);

exit_code run(cli::tool& t, const options& o);

// The per-record work, usable without a tool (tests, bench).
class record_enricher {
public:
    record_enricher(context& c, const options& o);
    // Appends the enriched record (without newline) to out; returns the number of intel matches.
    size_t enrich(std::string_view text, simdjson::dom::element doc, std::string& out);
    uint64_t matches() const noexcept { return matches_; }
    uint64_t records_matched() const noexcept { return records_matched_; }

private:
    void match_ip_value(std::string_view v, std::string_view field);
    std::optional<ip::address> address_of(std::string_view v);
    void add_match(uint32_t idx, std::string_view atomic, std::string_view field);
    // A value looked up in the feeds' value hashes (hashes.csv of events not loaded): `value`
    // is the value as MISP stores it, `atomic` the record's text.
    void match_value_hashes();
    // Calls f(value, field) for each string address in the IP fields and related.ip (arrays too).
    template <class F>
    void for_each_ip_value(F&& f);
    // The string at a field id of this record, if it is one.
    std::optional<std::string_view> string_at(size_t id);
    void match_value_hash(std::string_view value, ind_type type, bool v4, std::string_view atomic,
                          std::string_view field);
    void emit_value_hash(std::pair<uint32_t, uint32_t> range, std::string_view value, ind_type type, bool v4,
                         std::string_view atomic, std::string_view field);
    std::string_view address_text(const ip::address& a);
    context& c_;
    std::vector<std::string> ip_fields_, geo_prefix_;
    field_finder fields_;  // every field read below, found in one walk per record
    std::vector<size_t> ip_ids_, domain_ids_, url_ids_, hash_ids_;
    size_t related_id_ = 0;
    json::patch patch_;
    std::string scratch_, norm_, geo_path_;
    std::vector<uint32_t> seen_;
    std::vector<uint32_t> seen_vh_;  // value-hash entries matched in this record
    bool value_hashes_ = false;      // any loaded: only then is a record's value hashed
    std::string ip_text_;
    char ip_buf_[16] = {};
    struct vh_slot {
        ip::address addr;
        std::pair<uint32_t, uint32_t> range{0, 0};
        bool used = false;
    };
    std::vector<vh_slot> vh_cache_;  // address → value-hash entries, only with value hashes
    struct value_slot {
        std::string value;
        std::pair<uint32_t, uint32_t> range{0, 0};
        bool used = false;
    };
    std::vector<value_slot> value_cache_;  // domain/hash text → value-hash entries
    // Recent IP → indicator answers: the addresses of real logs repeat, a longest-prefix
    // search over every prefix length does not need to.
    struct ip_slot {
        ip::address addr;
        uint32_t idx = store::none;
        bool used = false;
    };
    std::vector<ip_slot> ip_cache_;
    struct parsed_text {
        std::string_view text;  // into the current record
        std::optional<ip::address> addr;
    };
    std::array<parsed_text, 8> parsed_{};
    size_t parsed_used_ = 0;
    uint64_t matches_ = 0, records_matched_ = 0;
};

}  // namespace sds::enrich
