#pragma once
// MISP warninglists (github.com/MISP/misp-warninglists): lists of known-benign values (cloud
// ranges, RFC 1918, empty-file hashes, security blogs…) that must not raise an alert. Values
// they cover are removed from the indicator store at load time.
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/enrich/indicator.hpp"

namespace sds::enrich {

class warninglists {
public:
    // Loads DIR/list.json, or every DIR/*/list.json (and DIR/*.json). Lists of an unknown type
    // are skipped with a note in `skipped`.
    status load(const std::string& path);
    // Adds one list from its JSON text (`name` for messages).
    status add_list(std::string_view json_text, const std::string& name);

    // True when `c` is covered by a list.
    bool covers(const classified& c) const;

    size_t lists() const noexcept { return lists_; }
    size_t entries() const noexcept { return entries_; }
    std::vector<std::string> skipped;

private:
    struct net_entry {
        ip::network net;
    };
    std::vector<ip::network> nets_;  // small: linear scan is replaced by a sorted per-prefix check
    std::vector<std::vector<std::pair<std::array<uint8_t, 16>, bool>>> by_prefix_ =
        std::vector<std::vector<std::pair<std::array<uint8_t, 16>, bool>>>(129);
    std::unordered_set<std::string> strings_;
    std::unordered_set<std::string> hostnames_;
    std::vector<std::string> substrings_;
    std::vector<std::regex> regexes_;
    size_t lists_ = 0, entries_ = 0;
    bool sorted_ = true;
    void sort();
};

}  // namespace sds::enrich
