#pragma once
// Training: (entity, address) pairs are collected (deduplicated, with counts, so memory follows
// the number of distinct pairs, not the stream), then entity vectors and address-feature
// vectors are fitted by SGD on log loss against two kinds of negatives: "shuffled" (the
// address of another training pair, so a real network) and "random" (a uniform IPv4 address).
//
// Bounded memory whatever the stream's length: at most max_pairs distinct pairs are kept; once
// that many are held, a new distinct pair replaces a random kept one with probability
// max_pairs / (distinct pairs offered so far), a reservoir sample of the distinct pairs (counts
// of kept pairs go on growing). Entity counts are kept for up to max_pairs entities (later new
// entities share hashed vectors), and the history of seen keys holds at most 2 x max_pairs
// keys (later keys are not in the model, so they score as new). Below these bounds nothing is
// sampled and the model is the same as with unbounded tables.
//
// Parallel and deterministic: pairs are split into a fixed number of shards by entity vector
// (independent of the thread count); each round every shard works on its next slice, updating
// its own entity vectors in place and buffering address-feature updates in a private delta;
// between rounds the deltas are added to the shared table in shard order. So the result depends
// on the data, the order of the input and the options, never on threads or scheduling.
#include <cstdint>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/score/features.hpp"
#include "sds/score/model.hpp"
#include "sds/score/table.hpp"

namespace sds::score {

struct train_options {
    uint32_t dim = 32;
    uint32_t epochs = 5;
    uint64_t seed = 1;
    unsigned threads = 0;              // 0 = the machine's cores
    uint32_t max_entities = 1u << 20;  // exact vectors; beyond, hashed shared vectors
    float learning_rate = 0.05f;
    uint32_t shuffled_negatives = 1;
    uint32_t random_negatives = 1;
    uint32_t max_pairs = 1u << 22;     // distinct pairs kept (reservoir beyond)
};

inline constexpr uint32_t train_shards = 16;

class trainer {
public:
    explicit trainer(train_options o) : opt_(o) {}
    void add(const pair& p);
    uint64_t pairs() const noexcept { return total_; }
    uint64_t distinct_pairs() const noexcept { return items_.size(); }
    // Distinct pairs offered to the reservoir (> distinct_pairs() when it sampled).
    uint64_t offered_pairs() const noexcept { return offered_; }
    bool sampled() const noexcept { return offered_ > items_.size() || entity_overflow_ || seen_full_; }
    // Fits the model. A run with no pairs is refused (usage error).
    expected<model_data> train(const fields& f);

private:
    static constexpr uint32_t untracked = UINT32_MAX;  // entity beyond the entity table
    struct item {
        uint32_t entity;  // provisional index (or untracked), then vector index
        uint32_t count;
        feature_set f;
        uint64_t key;         // pair key
        uint64_t entity_key;
    };
    train_options opt_;
    u64_table entity_ids_{1024};
    std::vector<uint64_t> entity_keys_;
    std::vector<uint64_t> entity_counts_;
    u64_table pair_ids_{1024};
    std::vector<item> items_;
    u64_table seen_{1024};
    uint64_t total_ = 0;
    uint64_t offered_ = 0;
    uint64_t rng_state_ = 0;
    bool entity_overflow_ = false, seen_full_ = false;
};

}  // namespace sds::score
