#pragma once
// The model file: one flat, versioned, checksummed image that is memory-mapped for scoring.
//
//   header (struct model_header, little-endian, 256 bytes)
//   meta          text lines "key=value" (fields the model was trained on, training settings)
//   entity slots  open-addressing table: entity key -> exact vector index
//   entity vecs   float[n_exact + n_shared][dim] (n_shared: hashed vectors for the long tail)
//   entity stats  float[n_exact + n_shared][2]  mean and spread of the raw score over the
//                 entity's own training pairs (the per-entity normalisation)
//   centroid      float[dim] (the vector of an entity never seen in training)
//   features      float[feature_rows][dim] (address prefix / ASN / country embeddings)
//   seen          open-addressing set of uint64 history keys (features.hpp seen_key)
//
// Every section starts on a 64-byte boundary. A file with another magic or version, a size
// that does not match, or a checksum that does not match is refused.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sds/core/expected.hpp"
#include "sds/score/features.hpp"

namespace sds::score {

inline constexpr uint32_t model_version = 1;

struct model_header {
    char magic[8];  // "SDSSCORE"
    uint32_t version;
    uint32_t header_size;
    uint64_t file_size;
    uint64_t checksum;  // of bytes [header_size, file_size)
    uint32_t dim, n_exact, n_shared, entity_slots, feature_rows, epochs;
    uint64_t n_seen, pairs, records, seed;
    float global_mean, global_std;
    uint64_t off_meta, len_meta, off_slots, off_entity_vecs, off_entity_stats, off_centroid, off_features, off_seen;
    uint8_t reserved[256 - 160];
};
static_assert(sizeof(model_header) == 256);

struct entity_slot {
    uint64_t key;  // 0 = empty
    uint32_t index;
    uint32_t pad;
};

// What training produces; written by write_model.
struct model_data {
    uint32_t dim = 0;
    uint32_t n_exact = 0, n_shared = 0;
    std::vector<uint64_t> exact_keys;     // entity key of exact vector i
    std::vector<float> entity_vecs;       // (n_exact + n_shared) * dim
    std::vector<float> entity_stats;      // (n_exact + n_shared) * 2
    std::vector<float> centroid;          // dim
    std::vector<float> features;          // feature_rows * dim
    std::vector<uint64_t> seen;           // sorted, unique
    float global_mean = 0, global_std = 1;
    uint64_t pairs = 0, records = 0, seed = 0;
    uint32_t epochs = 0;
    fields trained_fields;
    std::vector<std::pair<std::string, std::string>> extra_meta;
};

// Writes atomically (temporary file + rename). Errors are runtime failures.
status write_model(const std::string& path, const model_data& m);

// A read-only view of a model file (memory-mapped), or of model_data in memory.
class model {
public:
    static expected<model> open(const std::string& path);
    static model from_data(std::shared_ptr<const model_data> d);

    uint32_t dim() const noexcept { return dim_; }
    // Vector index of an entity: exact, else hashed when the entity was seen in training, else nullopt.
    std::optional<uint32_t> entity_index(uint64_t entity_key) const noexcept;
    const float* entity_vec(uint32_t i) const noexcept { return entity_vecs_ + size_t(i) * dim_; }
    float entity_mean(uint32_t i) const noexcept { return entity_stats_[2 * size_t(i)]; }
    float entity_std(uint32_t i) const noexcept { return entity_stats_[2 * size_t(i) + 1]; }
    const float* centroid() const noexcept { return centroid_; }
    const float* feature(uint32_t row) const noexcept { return features_ + size_t(row) * dim_; }
    bool seen(uint64_t key) const noexcept;
    // Prefetch hints for the lookups above (the tables are far larger than the caches: issuing
    // a record's loads together overlaps their misses instead of paying them one after another).
    void prefetch_seen(uint64_t key) const noexcept { __builtin_prefetch(seen_ + (mix64(key) & (n_seen_ - 1))); }
    void prefetch_entity(uint64_t key) const noexcept {
        if (slots_) __builtin_prefetch(slot_table_ + (static_cast<uint32_t>(mix64(key)) & (slots_ - 1)));
    }
    void prefetch_feature(uint32_t row) const noexcept {
        const char* p = reinterpret_cast<const char*>(feature(row));
        for (size_t b = 0; b < size_t(dim_) * 4; b += 64) __builtin_prefetch(p + b);
    }
    float global_mean() const noexcept { return global_mean_; }
    float global_std() const noexcept { return global_std_; }
    const fields& trained_fields() const noexcept { return fields_; }
    uint64_t pairs() const noexcept { return pairs_; }
    uint64_t n_entities() const noexcept { return n_exact_ + n_shared_; }
    // The model's identity for sds.anomaly.model: "<file name>@<checksum prefix>".
    const std::string& id() const noexcept { return id_; }
    std::string meta(const std::string& key) const;

private:
    std::shared_ptr<const void> hold_;  // mapping or model_data
    uint32_t dim_ = 0, n_exact_ = 0, n_shared_ = 0, slots_ = 0;
    const entity_slot* slot_table_ = nullptr;
    const float* entity_vecs_ = nullptr;
    const float* entity_stats_ = nullptr;
    const float* centroid_ = nullptr;
    const float* features_ = nullptr;
    const uint64_t* seen_ = nullptr;
    uint64_t n_seen_ = 0, pairs_ = 0;
    float global_mean_ = 0, global_std_ = 1;
    fields fields_;
    std::vector<std::pair<std::string, std::string>> meta_;
    std::string id_;
    void parse_meta(std::string_view text);

public:
    // Internal: binds the view to a validated image.
    expected<model> attach(std::shared_ptr<const void> hold, const char* base, const model_header& h,
                           const std::string& name);
};

inline float dot(const float* a, const float* b, uint32_t n) noexcept {
    float s = 0;
    for (uint32_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace sds::score
