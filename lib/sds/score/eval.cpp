#include "sds/score/eval.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "sds/core/ip.hpp"

namespace sds::score {

namespace {
bool parse_v4(std::string_view s, uint32_t& out) {
    if (s.empty()) return false;
    if (s.find('.') == std::string_view::npos) {
        uint64_t v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + uint64_t(c - '0');
            if (v > 0xffffffffULL) return false;
        }
        out = uint32_t(v);
        return true;
    }
    auto a = ip::parse(s);
    if (!a || !a->v4) return false;
    out = a->v4_value();
    return true;
}
}  // namespace

expected<std::vector<network_row>> load_networks(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(exit_code::usage, fmt::format("cannot open network table: {} ({})", path, std::strerror(errno)));
    std::vector<network_row> rows;
    std::string line;
    while (std::getline(in, line)) {
        std::string_view l = line;
        std::string_view col[4];
        int n = 0;
        while (n < 4) {
            size_t c = l.find(',');
            col[n++] = l.substr(0, c);
            if (c == std::string_view::npos) break;
            l.remove_prefix(c + 1);
        }
        if (n < 4) continue;
        network_row r;
        uint32_t asn = 0;
        if (!parse_v4(col[0], r.start) || !parse_v4(col[1], r.end) || r.end < r.start || !parse_v4(col[2], asn)) continue;
        r.asn = asn;
        r.country = pack_country(col[3]);
        rows.push_back(r);
    }
    if (rows.empty()) return make_error(exit_code::usage, fmt::format("no IPv4 networks in network table: {}", path));
    std::sort(rows.begin(), rows.end(), [](const network_row& a, const network_row& b) { return a.start < b.start; });
    return rows;
}

metrics measure(std::vector<double> normal, std::vector<double> anomalous) {
    metrics m;
    m.n = anomalous.size();
    if (normal.empty() || anomalous.empty()) return m;
    // AUC = P(anomalous > normal) + P(tie)/2, by ranks over the pooled scores.
    // A non-finite score (a model that diverged) must not break the sort: count it as maximal.
    for (auto* v : {&normal, &anomalous})
        for (double& s : *v)
            if (!std::isfinite(s)) s = std::numeric_limits<double>::max();
    std::vector<std::pair<double, bool>> all;
    all.reserve(normal.size() + anomalous.size());
    for (double s : normal) all.emplace_back(s, false);
    for (double s : anomalous) all.emplace_back(s, true);
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
    double rank_sum = 0;
    for (size_t i = 0; i < all.size();) {
        size_t j = i;
        size_t hits = 0;
        while (j < all.size() && all[j].first == all[i].first) hits += all[j++].second;
        double avg = (double(i) + double(j - 1)) / 2.0 + 1.0;
        rank_sum += avg * double(hits);
        i = j;
    }
    double na = double(anomalous.size()), nn = double(normal.size());
    m.auc = (rank_sum - na * (na + 1) / 2) / (na * nn);
    std::sort(normal.begin(), normal.end(), std::greater<>());
    auto tpr_at = [&](double fpr) {
        size_t k = static_cast<size_t>(fpr * nn);  // at most k real pairs may score above the threshold
        if (k >= normal.size()) k = normal.size() - 1;
        double thr = normal[k];
        size_t caught = 0;
        for (double s : anomalous) caught += s > thr;
        return double(caught) / na;
    };
    m.tpr_1 = tpr_at(0.01);
    m.tpr_01 = tpr_at(0.001);
    return m;
}

}  // namespace sds::score
