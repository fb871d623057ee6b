#include "sds/score/train.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <thread>

namespace sds::score {

namespace {

__extension__ typedef unsigned __int128 u128;

struct rng {
    uint64_t s;
    explicit rng(uint64_t seed) : s(seed) {}
    uint64_t next() noexcept {
        s += 0x9e3779b97f4a7c15ULL;
        return mix64(s);
    }
    uint64_t below(uint64_t n) noexcept { return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64); }
    float uniform() noexcept { return float(next() >> 40) * (1.0f / float(1 << 24)); }
};

inline float sigmoid(float x) noexcept { return 1.0f / (1.0f + std::exp(-x)); }

uint64_t pair_key(const pair& p) noexcept {
    uint64_t h = p.entity_key;
    for (int i = 0; i < 16; i += 8) {
        uint64_t w = 0;
        for (int j = 0; j < 8; ++j) w = w << 8 | p.addr.bytes[i + j];
        h = mix64(h ^ w);
    }
    h = mix64(h ^ (p.asn ? uint64_t(*p.asn) + 1 : 0));
    h = mix64(h ^ (p.country ? uint64_t(*p.country) + 1 : 0) ^ 0x77);
    return h == 0 ? 1 : h;
}

// A shard's private view of the address-feature table during a round.
struct shard_state {
    std::vector<int32_t> slot_of;  // feature row -> slot in delta, -1 = untouched
    std::vector<uint32_t> touched;
    std::vector<float> delta;
    std::vector<float> v, grad;  // scratch
    void init(uint32_t dim) {
        slot_of.assign(feature_rows, -1);
        v.resize(dim);
        grad.resize(dim);
    }
    float* row_delta(uint32_t row, uint32_t dim) {
        int32_t s = slot_of[row];
        if (s < 0) {
            s = static_cast<int32_t>(touched.size());
            slot_of[row] = s;
            touched.push_back(row);
            delta.resize(delta.size() + dim, 0.0f);
        }
        return delta.data() + size_t(s) * dim;
    }
    void reset() {
        for (uint32_t r : touched) slot_of[r] = -1;
        touched.clear();
        delta.clear();
    }
};

}  // namespace

void trainer::add(const pair& p) {
    ++total_;
    bool ins = false;
    const size_t cap = opt_.max_pairs ? opt_.max_pairs : 1;
    uint32_t e = untracked;
    if (entity_keys_.size() < cap) {
        e = entity_ids_.insert(p.entity_key, static_cast<uint32_t>(entity_keys_.size()), ins);
        if (ins) {
            entity_keys_.push_back(p.entity_key);
            entity_counts_.push_back(0);
        }
    } else {
        bool known = entity_ids_.contains(p.entity_key);
        if (known) e = entity_ids_.insert(p.entity_key, 0, ins);
        else entity_overflow_ = true;
    }
    if (e != untracked) ++entity_counts_[e];
    const uint64_t key = pair_key(p);
    bool known_pair = pair_ids_.contains(key);
    if (known_pair) {
        uint32_t idx = pair_ids_.insert(key, 0, ins);
        if (items_[idx].count < UINT32_MAX) ++items_[idx].count;
    } else {
        ++offered_;
        item it{e, 1, features_of(p.addr, p.asn, p.country), key, p.entity_key};
        if (items_.size() < cap) {
            pair_ids_.insert(key, static_cast<uint32_t>(items_.size()), ins);
            items_.push_back(it);
        } else {
            // Reservoir: keep the new pair with probability cap / offered, in a random slot.
            rng_state_ += 0x9e3779b97f4a7c15ULL;
            uint64_t x = mix64(rng_state_ ^ mix64(opt_.seed + 0x7e5));
            uint64_t j = static_cast<uint64_t>((static_cast<u128>(x) * offered_) >> 64);
            if (j < cap) {
                pair_ids_.erase(items_[j].key);
                pair_ids_.insert(key, static_cast<uint32_t>(j), ins);
                items_[j] = it;
            }
        }
    }
    const size_t seen_cap = 2 * cap - 1;
    seen_values sv = values_of(p);
    auto remember = [&](uint64_t k) {
        if (seen_.size() < seen_cap) seen_.insert(k, 0, ins);
        else if (!seen_.contains(k)) seen_full_ = true;
    };
    for (int k = 0; k < seen_kinds; ++k) {
        if (!sv.has[k]) continue;
        remember(seen_key(p.entity_key, seen_kind(k), sv.v[k]));
        if (k != 0) remember(seen_key(0, seen_kind(k), sv.v[k]));
    }
}

expected<model_data> trainer::train(const fields& f) {
    if (items_.empty())
        return make_error(exit_code::usage, "no usable (entity, address) pairs in the training input: model not written");
    const uint32_t dim = opt_.dim;
    const uint32_t S = train_shards;
    model_data m;
    m.dim = dim;
    m.seed = opt_.seed;
    m.epochs = opt_.epochs;
    m.pairs = total_;
    m.trained_fields = f;

    // Entity vectors: the most frequent entities get their own, the long tail shares hashed ones.
    const size_t n_ent = entity_keys_.size();
    std::vector<uint32_t> order(n_ent);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        if (entity_counts_[a] != entity_counts_[b]) return entity_counts_[a] > entity_counts_[b];
        return entity_keys_[a] < entity_keys_[b];
    });
    m.n_exact = static_cast<uint32_t>(std::min<size_t>(n_ent, opt_.max_entities));
    size_t rest = n_ent - m.n_exact;
    if (entity_overflow_) rest = std::max<size_t>(rest, 1) + n_ent;  // untracked entities: about as many again
    m.n_shared = rest == 0 ? 0 : static_cast<uint32_t>(std::clamp<size_t>(rest / 8, 1, std::max<size_t>(opt_.max_entities / 4, 1)));
    std::vector<uint32_t> vec_of(n_ent);
    m.exact_keys.resize(m.n_exact);
    for (size_t i = 0; i < n_ent; ++i) {
        uint32_t e = order[i];
        if (i < m.n_exact) {
            vec_of[e] = static_cast<uint32_t>(i);
            m.exact_keys[i] = entity_keys_[e];
        } else {
            vec_of[e] = m.n_exact + static_cast<uint32_t>(mix64(entity_keys_[e] ^ 0x51) % m.n_shared);
        }
    }
    for (auto& it : items_)
        it.entity = it.entity != untracked ? vec_of[it.entity]
                                           : m.n_exact + static_cast<uint32_t>(mix64(it.entity_key ^ 0x51) % m.n_shared);
    const uint32_t n_vec = m.n_exact + m.n_shared;

    // Initial vectors: each row from its own seeded generator (independent of threads).
    m.entity_vecs.resize(size_t(n_vec) * dim);
    m.features.resize(size_t(feature_rows) * dim);
    const float scale = 0.1f;
    for (uint32_t i = 0; i < n_vec; ++i) {
        rng r(mix64(opt_.seed * 31 + i));
        for (uint32_t d = 0; d < dim; ++d) m.entity_vecs[size_t(i) * dim + d] = (r.uniform() - 0.5f) * 2 * scale;
    }
    for (uint32_t i = 0; i < feature_rows; ++i) {
        rng r(mix64(opt_.seed * 37 + 0x1000000000ULL + i));
        for (uint32_t d = 0; d < dim; ++d) m.features[size_t(i) * dim + d] = (r.uniform() - 0.5f) * 2 * scale;
    }

    // Fixed sharding by entity vector.
    std::vector<std::vector<uint32_t>> shard(S);
    for (uint32_t i = 0; i < items_.size(); ++i) shard[items_[i].entity % S].push_back(i);
    size_t largest = 0;
    for (auto& s : shard) largest = std::max(largest, s.size());
    const size_t round_pairs = 2048;
    const size_t rounds = std::max<size_t>(1, (largest + round_pairs - 1) / round_pairs);
    unsigned threads = opt_.threads ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min<unsigned>(threads, S);

    std::vector<shard_state> st(S);
    std::vector<uint8_t> sharers(feature_rows, 0);
    for (auto& s : st) s.init(dim);
    float* U = m.entity_vecs.data();
    float* F = m.features.data();
    const size_t n_items = items_.size();

    auto run_shard = [&](uint32_t s, size_t round, uint32_t epoch, float lr) {
        auto& list = shard[s];
        size_t lo = list.size() * round / rounds, hi = list.size() * (round + 1) / rounds;
        shard_state& ss = st[s];
        rng r(mix64(opt_.seed ^ mix64((uint64_t(epoch) << 40) ^ (uint64_t(round) << 8) ^ s)));
        auto step = [&](float* u, const feature_set& fs, float label, float w) {
            float* v = ss.v.data();
            std::fill(v, v + dim, 0.0f);
            for (int k = 0; k < fs.n; ++k) {
                const float* base = F + size_t(fs.rows[k]) * dim;
                int32_t sl = ss.slot_of[fs.rows[k]];
                if (sl >= 0) {
                    const float* dl = ss.delta.data() + size_t(sl) * dim;
                    for (uint32_t d = 0; d < dim; ++d) v[d] += base[d] + dl[d];
                } else {
                    for (uint32_t d = 0; d < dim; ++d) v[d] += base[d];
                }
            }
            float g = w * (sigmoid(dot(u, v, dim)) - label) * lr;
            for (int k = 0; k < fs.n; ++k) {
                float* dl = ss.row_delta(fs.rows[k], dim);
                for (uint32_t d = 0; d < dim; ++d) dl[d] -= g * u[d];
            }
            for (uint32_t d = 0; d < dim; ++d) u[d] -= g * v[d];
        };
        for (size_t i = lo; i < hi; ++i) {
            const item& it = items_[list[i]];
            float* u = U + size_t(it.entity) * dim;
            float w = 1.0f + std::log(float(it.count));
            step(u, it.f, 1.0f, w);
            for (uint32_t k = 0; k < opt_.shuffled_negatives; ++k) {
                const item& other = items_[r.below(n_items)];
                if (other.entity == it.entity) continue;
                step(u, other.f, 0.0f, w);
            }
            for (uint32_t k = 0; k < opt_.random_negatives; ++k) {
                ip::address a;
                a.v4 = true;
                a.bytes[10] = a.bytes[11] = 0xff;
                uint32_t x = static_cast<uint32_t>(r.next());
                a.bytes[12] = uint8_t(x >> 24), a.bytes[13] = uint8_t(x >> 16), a.bytes[14] = uint8_t(x >> 8),
                a.bytes[15] = uint8_t(x);
                step(u, features_of(a, std::nullopt, std::nullopt), 0.0f, w);
            }
        }
    };

    for (uint32_t epoch = 0; epoch < opt_.epochs; ++epoch) {
        for (uint32_t s = 0; s < S; ++s) {
            rng r(mix64(opt_.seed * 1000003 + epoch * 101 + s));
            auto& list = shard[s];
            for (size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[r.below(i)]);
        }
        for (size_t round = 0; round < rounds; ++round) {
            double progress = (double(epoch) * rounds + round) / (double(opt_.epochs) * rounds);
            float lr = opt_.learning_rate * float(std::max(0.0001, 1.0 - progress));
            std::atomic<uint32_t> next{0};
            auto work = [&] {
                for (uint32_t s; (s = next.fetch_add(1)) < S;) run_shard(s, round, epoch, lr);
            };
            // A row updated by several shards gets the mean of their deltas (parameter
            // averaging): summing them would multiply the step of popular rows (a country, a
            // large ASN) by the number of shards and diverge.
            auto merge = [&](unsigned t) {
                for (uint32_t s = 0; s < S; ++s)
                    for (uint32_t row : st[s].touched)
                        if (row % threads == t) ++sharers[row];
                for (uint32_t s = 0; s < S; ++s) {
                    const shard_state& ss = st[s];
                    for (size_t j = 0; j < ss.touched.size(); ++j) {
                        uint32_t row = ss.touched[j];
                        if (row % threads != t) continue;
                        float* dst = F + size_t(row) * dim;
                        const float* src = ss.delta.data() + j * dim;
                        const float share = 1.0f / float(sharers[row]);
                        for (uint32_t d = 0; d < dim; ++d) dst[d] += src[d] * share;
                    }
                }
                for (uint32_t s = 0; s < S; ++s)
                    for (uint32_t row : st[s].touched)
                        if (row % threads == t) sharers[row] = 0;
            };
            if (threads == 1) {
                work();
                merge(0);
            } else {
                std::vector<std::thread> pool;
                for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
                for (auto& t : pool) t.join();
                pool.clear();
                for (unsigned t = 0; t < threads; ++t) pool.emplace_back(merge, t);
                for (auto& t : pool) t.join();
            }
            for (auto& ss : st) ss.reset();
        }
    }
    st.clear();

    // Per-entity normalisation: weighted mean and spread of the raw score over the entity's own
    // pairs, shrunk towards the population for entities with few pairs.
    std::vector<float> v(dim);
    auto raw_of = [&](const item& it) {
        std::fill(v.begin(), v.end(), 0.0f);
        for (int k = 0; k < it.f.n; ++k) {
            const float* row = F + size_t(it.f.rows[k]) * dim;
            for (uint32_t d = 0; d < dim; ++d) v[d] += row[d];
        }
        return double(dot(U + size_t(it.entity) * dim, v.data(), dim));
    };
    std::vector<double> raw(n_items);
    std::vector<double> sw(n_vec, 0), s1(n_vec, 0), s2(n_vec, 0);
    double gw = 0, g1 = 0, g2 = 0;
    for (size_t i = 0; i < n_items; ++i) {
        raw[i] = raw_of(items_[i]);
        double w = items_[i].count;
        sw[items_[i].entity] += w;
        s1[items_[i].entity] += w * raw[i];
        gw += w;
        g1 += w * raw[i];
    }
    double gmean = g1 / gw;
    for (size_t i = 0; i < n_items; ++i) g2 += items_[i].count * (raw[i] - gmean) * (raw[i] - gmean);
    double gvar = g2 / gw;
    const double k = 3.0;
    std::vector<double> mean(n_vec);
    for (uint32_t i = 0; i < n_vec; ++i) mean[i] = (s1[i] + k * gmean) / (sw[i] + k);
    for (size_t i = 0; i < n_items; ++i) {
        double d = raw[i] - mean[items_[i].entity];
        s2[items_[i].entity] += items_[i].count * d * d;
    }
    m.entity_stats.resize(size_t(n_vec) * 2);
    double gstd = std::sqrt(std::max(gvar, 1e-12));
    for (uint32_t i = 0; i < n_vec; ++i) {
        double var = (s2[i] + k * gvar) / (sw[i] + k);
        m.entity_stats[2 * i] = float(mean[i]);
        m.entity_stats[2 * i + 1] = float(std::max({std::sqrt(var), 0.25 * gstd, 1e-3}));
    }
    m.global_mean = float(gmean);
    m.global_std = float(std::max(gstd, 1e-3));
    m.centroid.assign(dim, 0.0f);
    for (uint32_t i = 0; i < n_vec; ++i)
        for (uint32_t d = 0; d < dim; ++d) m.centroid[d] += U[size_t(i) * dim + d] / float(n_vec);

    seen_.for_each([&](uint64_t key, uint32_t) { m.seen.push_back(key); });
    std::sort(m.seen.begin(), m.seen.end());
    m.records = total_;
    return m;
}

}  // namespace sds::score
