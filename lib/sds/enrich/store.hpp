#pragma once
// The indicator store: every loaded indicator once, with all the feeds that published it,
// indexed for the lookups a record needs — IP addresses by longest prefix (IPv4 and IPv6, a
// single address being a /32 or /128), domains exactly and by parent domain, normalised URLs
// and hashes exactly. Built once at start-up (add… then finalize()), read-only afterwards.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sds/enrich/indicator.hpp"
#include "sds/enrich/md5.hpp"

namespace sds::enrich {

// What a feed says about its indicators (one per MISP event, STIX indicator or list file).
struct context_info {
    std::string provider;     // feed / organisation
    std::string description;  // event info, STIX name/description
    std::string tlp;          // WHITE, CLEAR, GREEN, AMBER, AMBER+STRICT, RED
    std::string reference;    // link to the event / object
    std::string confidence;   // ECS: None, Low, Medium, High, Not Specified
};

struct indicator_times {
    int64_t first_seen_ms = 0;  // 0 = unknown
    int64_t last_seen_ms = 0;
    std::string_view comment;   // per-indicator description (overrides the context's)
};

class store {
public:
    static constexpr uint32_t none = UINT32_MAX;

    uint32_t add_context(context_info c);
    // Adds an indicator, as classify() makes them (domains have a dot, hashes are hex).
    // Returns false when it was already present (its providers are merged).
    bool add(const classified& c, uint32_t context, const indicator_times& t);
    // Moves in every indicator and context of `other` (loaded on its own, not finalized), as
    // if they had been added here after what this store holds: what lookups and render() give
    // afterwards is the same. Returns how many of its domains, URLs and hashes were already
    // here (addresses are merged by finalize(), as always).
    size_t absorb(store&& other);
    // Sorts the address tables and merges duplicate addresses/networks; returns how many
    // duplicates were merged. Must be called before lookups.
    size_t finalize();

    size_t size() const noexcept { return inds_.size() - merged_; }
    // Heap bytes held by the store: every container's capacity, and the allocator's
    // per-node cost for the few node-based ones.
    size_t memory_bytes() const;

    // Lookups (values already normalised). They return the indicator index or `none`.
    uint32_t match_ip(const ip::address& a) const;
    // `d` and then its parent domains; the most specific match wins.
    uint32_t match_domain(std::string_view d) const;
    uint32_t match_url(std::string_view u) const { return urls_.find(*this, u); }
    // `h`: an md5, sha1 or sha256 in hex (either case).
    uint32_t match_hash(std::string_view h) const;

    // Appends one ECS threat.enrichments[] element for indicator `idx` matched by `atomic`
    // in `field`.
    void render(uint32_t idx, std::string_view atomic, std::string_view field, std::string& out) const;

    // Value hashes from a MISP feed's hashes.csv: the md5 of a value that an event of the feed
    // holds, kept for events whose file was not loaded (their values are known only by hash).
    // `context` names the event (its reference) and the feed.
    void add_value_hash(const md5_digest& h, uint32_t context) { vhashes_.push_back({h, context}); }
    bool has_value_hashes() const noexcept { return !vhashes_.empty(); }
    size_t value_hash_count() const noexcept { return vhashes_.size(); }
    // The value-hash entries [first, last) whose digest is `h` (after finalize()).
    std::pair<uint32_t, uint32_t> match_value_hash(const md5_digest& h) const;
    // Appends the threat.enrichments[] element for value-hash entry `k`: `value` (what was
    // hashed, of kind `type`) found in `field` as `atomic`.
    void render_value_hash(uint32_t k, ind_type type, bool v4, std::string_view value, std::string_view atomic,
                           std::string_view field, std::string& out) const;

    // The indicator's value in text form (for tests and messages).
    std::string value_text(uint32_t idx) const;

private:
    // 16 bytes per indicator. The value lives in the arena in its most compact form: IPv4
    // addresses as 4 bytes, IPv6 as 16, hashes as their binary digest, domains and URLs as
    // normalised text; a per-indicator comment follows it.
    struct ind {
        uint32_t val_off = 0;
        uint32_t ctx = 0;
        uint16_t val_len = 0;
        uint16_t com_len = 0;
        ind_type type = ind_type::domain;
        uint8_t prefix = 0;
        bool v4 = false;
    };
    static_assert(sizeof(ind) == 16, "the per-indicator record is 16 bytes (the store's size budget)");
    struct context {
        context_info info;
        std::string json;  // pre-rendered shared members
    };
    // Open-addressing table (linear probing) of indicator indices keyed by their arena bytes.
    // Each slot keeps the high 32 bits of the key's hash beside the index: a probe only reads
    // the arena when those agree (a miss, most lookups, costs one or two cache lines), and
    // since the home slot is derived from those bits alone, growing never rehashes a key.
    class key_table {
    public:
        uint32_t find(const store& s, std::string_view key) const;
        // Returns the existing index for key, or inserts idx and returns none.
        uint32_t insert(const store& s, std::string_view key, uint32_t idx);
        // Shrinks to the final load factor once loading is over.
        void compact();
        size_t memory_bytes() const { return slots_.capacity() * sizeof(slot); }

    private:
        struct slot {
            uint32_t idx1 = 0;  // index + 1; 0 = empty
            uint32_t tag = 0;
        };
        void rebuild(size_t n);
        // The hash's high 32 bits scaled to the table's size (any size, no modulo).
        static size_t home(uint32_t tag, size_t n) { return size_t((uint64_t(tag) * n) >> 32); }
        std::vector<slot> slots_;
        size_t used_ = 0;
    };
    std::string_view key(const ind& i) const { return {arena_.data() + i.val_off, i.val_len}; }
    std::string_view comment(const ind& i) const { return {arena_.data() + i.val_off + i.val_len, i.com_len}; }
    std::pair<uint32_t, uint32_t> times_of(uint32_t idx) const;
    void merge_times(uint32_t idx, uint32_t first, uint32_t last);
    key_table& table_for(ind_type t) { return t == ind_type::domain ? domains_ : t == ind_type::url ? urls_ : hashes_; }

    std::vector<ind> inds_;
    std::string arena_;
    // first/last seen (seconds since the epoch, 0 = unknown) per indicator; stays empty until
    // the first indicator that has either, as list feeds carry none.
    std::vector<std::pair<uint32_t, uint32_t>> times_;
    std::vector<context> ctxs_;
    std::unordered_map<uint32_t, std::vector<uint32_t>> extra_ctx_;  // indicators in several feeds
    std::array<std::vector<std::pair<uint32_t, uint32_t>>, 33> v4_;
    std::array<std::vector<std::pair<std::array<uint8_t, 16>, uint32_t>>, 129> v6_;
    std::vector<int> v4_lens_, v6_lens_;  // non-empty prefix lengths, longest first
    key_table domains_, urls_, hashes_;
    struct value_hash {
        md5_digest digest;
        uint32_t ctx;
    };
    std::vector<value_hash> vhashes_;  // sorted by digest, then context, by finalize()
    // One bit per digest bucket (≥16 bits per entry): most values of a record are in no feed,
    // and this says so without searching.
    std::vector<uint64_t> vfilter_;
    size_t merged_ = 0;
};

}  // namespace sds::enrich
