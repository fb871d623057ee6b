#pragma once
// sds-score eval: how well a model separates the real pairs of a file from generated ones.
// For every real pair, one generated pair of each kind with the same entity:
//   random_network          an address in a random network of the table
//   same_country_other_asn  an address in a network of the same country and another ASN
//   uniform_ipv4            a uniformly random IPv4 address
// The network table is --networks CSV (start,end,asn,country; addresses dotted or as
// integers), else the distinct addresses of the input itself with their ASN and country.
// Reported: ROC AUC and the true-positive rate (generated pairs caught) at 1% and 0.1% false
// positives (real pairs flagged), for the model and for the per-entity /16 novelty baseline.
#include <cstdint>
#include <string>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/score/features.hpp"

namespace sds::score {

struct network_row {
    uint32_t start = 0, end = 0, asn = 0;
    uint16_t country = 0;
};

// Reads a network table. Rows that cannot be read are skipped; an unreadable file is an error.
expected<std::vector<network_row>> load_networks(const std::string& path);

struct metrics {
    double auc = 0, tpr_1 = 0, tpr_01 = 0;
    size_t n = 0;
};
// `normal` are the scores of real pairs, `anomalous` of generated ones (higher = more anomalous).
metrics measure(std::vector<double> normal, std::vector<double> anomalous);

}  // namespace sds::score
