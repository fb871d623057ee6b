#pragma once
// Feed loaders: MISP feed folders (manifest.json + <event-uuid>.json), MISP event JSON
// exports, MISP REST restSearch responses, STIX 2.1 bundles, CSV and plain lists, each
// recognised from its content. Entries pass the expiry rules and the warninglists before they
// reach the store. A file that cannot be parsed is a configuration error (exit 2, file and
// line); a bad entry inside a good file is skipped and counted.
#include <simdjson.h>

#include <cstdint>
#include <vector>
#include <string>
#include <string_view>

#include "sds/core/expected.hpp"
#include "sds/enrich/store.hpp"
#include "sds/enrich/warninglist.hpp"

namespace sds::enrich {

struct load_options {
    int64_t now_ms = 0;
    int64_t max_age_ms = 0;        // 0 = no limit: drop indicators last seen longer ago
    bool include_non_ids = false;  // keep MISP attributes with to_ids=false
    std::string csv_column;        // name or 1-based number; empty = from the header
    std::string misp_url;          // for references to MISP events
};

struct load_stats {
    uint64_t files = 0;
    uint64_t entries = 0;        // values read (supported types)
    uint64_t added = 0;          // distinct indicators stored
    uint64_t duplicates = 0;     // same value from another event/feed
    uint64_t bad = 0;            // entries that could not be understood
    uint64_t expired = 0;
    uint64_t warninglisted = 0;
    uint64_t non_ids = 0;        // to_ids=false, skipped
    uint64_t other_types = 0;    // attribute types that are not matchable values
    uint64_t missing_events = 0; // manifest entries without an event file
    // MISP feed hashes.csv lines (md5 of a value, event uuid): loaded = used + redundant +
    // expired; malformed lines count as `bad` instead.
    uint64_t hashes_loaded = 0;
    uint64_t hashes_used = 0;       // kept for matching: their event file was not loaded
    uint64_t hashes_redundant = 0;  // their event was loaded, or the same (hash, event) again
    uint64_t hashes_expired = 0;    // their event is older than --intel-max-age

    load_stats& operator+=(const load_stats& o) {
        files += o.files;
        entries += o.entries;
        added += o.added;
        duplicates += o.duplicates;
        bad += o.bad;
        expired += o.expired;
        warninglisted += o.warninglisted;
        non_ids += o.non_ids;
        other_types += o.other_types;
        missing_events += o.missing_events;
        hashes_loaded += o.hashes_loaded;
        hashes_used += o.hashes_used;
        hashes_redundant += o.hashes_redundant;
        hashes_expired += o.hashes_expired;
        return *this;
    }
};

class loader {
public:
    loader(store& s, const warninglists* wl, load_options o) : store_(s), wl_(wl), opt_(std::move(o)) {}

    // Loads a file or a feed folder, detecting its format.
    status load_path(const std::string& path);
    // Loads a document already in memory (`name` for messages and as the provider fallback).
    status load_text(std::string_view text, const std::string& name);

    // A MISP feed's hashes.csv (`text`, read from `name`): "<md5 of a value>,<event uuid>" per
    // line. Hashes of the `loaded` events (sorted uuids) are redundant; the others are kept,
    // each with its event's context from `manifest` (provider `feed` when it names none).
    status load_feed_hashes(std::string_view text, const std::string& name, simdjson::dom::object manifest,
                            const std::vector<std::string>& loaded, const std::string& feed);

    const load_stats& stats() const noexcept { return stats_; }
    load_stats& stats() noexcept { return stats_; }
    // Messages worth a warning (missing event files...).
    std::vector<std::string> warnings;

private:
    status load_json(std::string_view text, const std::string& name, const std::string& dir);
    status load_csv(std::string_view text, const std::string& name);
    status load_list(std::string_view text, const std::string& name);
    status load_feed_dir(const std::string& dir, const std::string& manifest);
    status load_stix(simdjson::dom::element bundle, const std::string& name);
    // One entry: classify, filter and store. `context` from store_.add_context.
    enum class entry_result { added, duplicate, bad, filtered };
    entry_result add(std::string_view raw, uint32_t context, const indicator_times& t, int64_t expires_ms = 0);

    store& store_;
    const warninglists* wl_;
    load_options opt_;
    load_stats stats_;
    classified cls_;  // reused by add()
};

// Byte offset → 1-based line number of `text`.
uint64_t line_of(std::string_view text, size_t offset);
// The offset of the first JSON syntax error in `text` (text.size() if none found).
size_t json_error_offset(std::string_view text);

}  // namespace sds::enrich
