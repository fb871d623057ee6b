#pragma once
// Scoring one (entity, address) pair.
//
//   raw    the model's dot product of the entity vector with the address vector (higher =
//          more usual); an entity never seen in training uses the centroid of all entities.
//   z      raw normalised by the entity's own training pairs: (raw - mean_e) / spread_e
//          (population figures for an unseen entity), so scores compare across entities.
//   score  sum of the novelty weights of what is new for the entity, minus z; higher = more
//          anomalous, about 0 for a usual event. New: address 1, /24 1.5, /16 1.5, ASN 1.5,
//          country 1, entity 1 (then address, /24, ... are judged against everybody's
//          history), impossible travel 3. Without a model (--learn only) z is 0.
//   risk   event.risk_score = 100 / (1 + exp(3 - score)), 0..100.
#include <cmath>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "sds/score/features.hpp"
#include "sds/score/history.hpp"
#include "sds/score/model.hpp"

namespace sds::score {

enum reason : uint32_t {
    reason_entity = 1,
    reason_address = 2,
    reason_prefix24 = 4,
    reason_prefix16 = 8,
    reason_asn = 16,
    reason_country = 32,
    reason_travel = 64,
};
// Appends the reasons as a JSON array of names.
void append_reasons(std::string& out, uint32_t reasons);

struct result {
    std::optional<double> raw;
    double z = 0;
    double score = 0;
    double risk = 0;
    uint32_t reasons = 0;
};

struct travel_options {
    double max_kmh = 900;  // faster than this between consecutive located events = impossible
    double min_km = 500;   // hops shorter than this are ignored (geolocation is coarse)
};

// The table keys of a pair, worked out (and their loads started) before it is scored.
struct lookups {
    seen_values sv;
    uint64_t entity_seen = 0;
    uint64_t keys[seen_kinds] = {};  // the entity's history keys of each kind
    feature_set fs;                  // the address's feature rows (with a model)
};

class scorer {
public:
    // Either may be null (not both): model-only, history-only (--learn), or both.
    scorer(const model* m, const history* h) : m_(m), h_(h) {}
    result score(const pair& p) const;
    // The same in two steps: prepare() computes the keys and starts the model's table loads
    // (the seen set, the entity slot and the feature rows are far larger than the caches), so
    // that a caller can prepare the next record before scoring this one and their misses
    // overlap; score(p, l) is then score(p).
    void prepare(const pair& p, lookups& l) const noexcept;
    result score(const pair& p, lookups& l) const;
    // The /16 novelty baseline: 1 when the entity's /16 is new, else 0.
    double baseline_prefix16(const pair& p) const;

private:
    bool seen(uint64_t key) const { return (m_ && m_->seen(key)) || (h_ && h_->seen(key)); }
    const model* m_;
    const history* h_;
};

inline double risk_of(double score) { return 100.0 / (1.0 + std::exp(3.0 - score)); }

// Great-circle distance in km.
double distance_km(double lat1, double lon1, double lat2, double lon2);
// Updates the entity's last position; true when the hop from the previous one is impossible.
bool impossible_travel(std::unordered_map<uint64_t, last_position>& last, const pair& p, const travel_options& o);

}  // namespace sds::score
