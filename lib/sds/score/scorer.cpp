#include "sds/score/scorer.hpp"

#include <cmath>
#include <string_view>

namespace sds::score {

namespace {
constexpr double weight[seen_kinds] = {1.0, 1.0, 1.5, 1.5, 1.5, 1.0};  // entity, address, /24, /16, asn, country
constexpr uint32_t reason_bit[seen_kinds] = {reason_entity, reason_address, reason_prefix24,
                                             reason_prefix16, reason_asn, reason_country};
constexpr double z_weight = 0.7;
}  // namespace

void append_reasons(std::string& out, uint32_t reasons) {
    static constexpr std::string_view names[] = {"entity", "address", "prefix24", "prefix16", "asn", "country",
                                                 "impossible_travel"};  // views: no strlen per name
    out += '[';
    bool first = true;
    for (int i = 0; i < 7; ++i) {
        if (!(reasons & (1u << i))) continue;
        if (!first) out += ',';
        first = false;
        out += '"';
        out += names[i];
        out += '"';
    }
    out += ']';
}

result scorer::score(const pair& p) const {
    lookups l;
    prepare(p, l);
    return score(p, l);
}

void scorer::prepare(const pair& p, lookups& l) const noexcept {
    // The keys of a known entity, computed first so that every table load of the record can be
    // in flight at once (the seen set, the entity slot and the feature rows are all far larger
    // than the caches; one after another, their misses made up most of the time).
    l.sv = values_of(p);
    l.entity_seen = seen_key(p.entity_key, seen_kind::entity, 1);
    for (int k = 1; k < seen_kinds; ++k) l.keys[k] = l.sv.has[k] ? seen_key(p.entity_key, seen_kind(k), l.sv.v[k]) : 0;
    l.fs = feature_set{};
    if (m_) {
        m_->prefetch_seen(l.entity_seen);
        for (int k = 1; k < seen_kinds; ++k)
            if (l.sv.has[k]) m_->prefetch_seen(l.keys[k]);
        m_->prefetch_entity(p.entity_key);
        l.fs = features_of(p.addr, p.asn, p.country);
        for (int k = 0; k < l.fs.n; ++k) m_->prefetch_feature(l.fs.rows[k]);
    }
}

result scorer::score(const pair& p, lookups& l) const {
    result r;
    const seen_values& sv = l.sv;
    const uint64_t entity_seen = l.entity_seen;
    uint64_t* keys = l.keys;
    const feature_set& fs = l.fs;
    bool known = seen(entity_seen);
    if (!known) {
        r.reasons |= reason_entity;
        r.score += weight[0];
        // Judge the address against everybody's history.
        for (int k = 1; k < seen_kinds; ++k)
            if (sv.has[k]) keys[k] = seen_key(0, seen_kind(k), sv.v[k]);
    }
    for (int k = 1; k < seen_kinds; ++k) {
        if (!sv.has[k]) continue;
        if (!seen(keys[k])) {
            r.reasons |= reason_bit[k];
            r.score += weight[k];
        }
    }
    if (m_) {
        const uint32_t dim = m_->dim();
        float v[512];
        std::vector<float> big;
        float* vp = v;
        if (dim > 512) {
            big.resize(dim);
            vp = big.data();
        }
        for (uint32_t d = 0; d < dim; ++d) vp[d] = 0;
        for (int k = 0; k < fs.n; ++k) {
            const float* row = m_->feature(fs.rows[k]);
            for (uint32_t d = 0; d < dim; ++d) vp[d] += row[d];
        }
        auto idx = m_->entity_index(p.entity_key);
        double raw, mean, sd;
        if (idx) {
            raw = dot(m_->entity_vec(*idx), vp, dim);
            mean = m_->entity_mean(*idx);
            sd = m_->entity_std(*idx);
        } else {
            raw = dot(m_->centroid(), vp, dim);
            mean = m_->global_mean();
            sd = m_->global_std();
        }
        r.raw = raw;
        r.z = std::isfinite(raw) ? (raw - mean) / sd : 0.0;
        // Bounded below half the smallest novelty step, so the model orders events within a tier
        // of novelty and never overturns it (which keeps it at least as good as novelty alone).
        r.score -= z_weight * std::tanh(r.z / 2);
    }
    r.risk = risk_of(r.score);
    return r;
}

double scorer::baseline_prefix16(const pair& p) const {
    seen_values sv = values_of(p);
    return seen(seen_key(p.entity_key, seen_kind::prefix16, sv.v[3])) ? 0.0 : 1.0;
}

double distance_km(double lat1, double lon1, double lat2, double lon2) {
    constexpr double r = 6371.0, rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
               std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * r * std::asin(std::min(1.0, std::sqrt(a)));
}

bool impossible_travel(std::unordered_map<uint64_t, last_position>& last, const pair& p, const travel_options& o) {
    if (!p.location || !p.ts) return false;
    auto [it, fresh] = last.try_emplace(p.entity_key, last_position{*p.ts, (*p.location)[0], (*p.location)[1]});
    if (fresh) return false;
    last_position& prev = it->second;
    double km = distance_km(prev.lat, prev.lon, (*p.location)[0], (*p.location)[1]);
    double hours = std::abs(double(*p.ts - prev.ts)) / 3.6e6;
    bool impossible = km >= o.min_km && (hours <= 0 || km / hours > o.max_kmh);
    if (*p.ts >= prev.ts) prev = last_position{*p.ts, (*p.location)[0], (*p.location)[1]};
    return impossible;
}

}  // namespace sds::score
