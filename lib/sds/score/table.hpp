#pragma once
// A small open-addressing hash table from non-zero uint64 keys to uint32 values (or a set), for
// the training pass: far less memory per entry than std::unordered_map.
#include <cstdint>
#include <vector>

namespace sds::score {

class u64_table {
public:
    explicit u64_table(size_t capacity = 1024) { rehash(capacity < 16 ? 16 : capacity); }
    size_t size() const noexcept { return size_; }
    // Returns the value for `key`, inserting `value` first when absent; `inserted` tells which.
    uint32_t insert(uint64_t key, uint32_t value, bool& inserted) {
        if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
        size_t m = keys_.size() - 1, i = slot(key) & m;
        while (keys_[i] != 0) {
            if (keys_[i] == key) {
                inserted = false;
                return vals_[i];
            }
            i = (i + 1) & m;
        }
        keys_[i] = key;
        vals_[i] = value;
        ++size_;
        inserted = true;
        return value;
    }
    // Removes `key` (backward-shift deletion, so lookups need no tombstones).
    void erase(uint64_t key) noexcept {
        size_t m = keys_.size() - 1, i = slot(key) & m;
        while (keys_[i] != key) {
            if (keys_[i] == 0) return;
            i = (i + 1) & m;
        }
        keys_[i] = 0;
        --size_;
        for (size_t j = (i + 1) & m; keys_[j] != 0; j = (j + 1) & m) {
            size_t home = slot(keys_[j]) & m;
            // Entry j may move into the hole at i unless its home lies cyclically in (i, j].
            bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (stays) continue;
            keys_[i] = keys_[j];
            vals_[i] = vals_[j];
            keys_[j] = 0;
            i = j;
        }
    }
    bool contains(uint64_t key) const noexcept {
        size_t m = keys_.size() - 1, i = slot(key) & m;
        while (keys_[i] != 0) {
            if (keys_[i] == key) return true;
            i = (i + 1) & m;
        }
        return false;
    }
    template <class F>
    void for_each(F&& f) const {
        for (size_t i = 0; i < keys_.size(); ++i)
            if (keys_[i] != 0) f(keys_[i], vals_[i]);
    }
    void clear() {
        std::vector<uint64_t>().swap(keys_);
        std::vector<uint32_t>().swap(vals_);
        size_ = 0;
        rehash(16);
    }

private:
    static size_t slot(uint64_t k) noexcept { return static_cast<size_t>((k * 0x9e3779b97f4a7c15ULL) >> 17); }
    void rehash(size_t n) {
        std::vector<uint64_t> ok = std::move(keys_);
        std::vector<uint32_t> ov = std::move(vals_);
        keys_.assign(n, 0);
        vals_.assign(n, 0);
        size_t m = n - 1;
        for (size_t j = 0; j < ok.size(); ++j) {
            if (ok[j] == 0) continue;
            size_t i = slot(ok[j]) & m;
            while (keys_[i] != 0) i = (i + 1) & m;
            keys_[i] = ok[j];
            vals_[i] = ov[j];
        }
    }
    std::vector<uint64_t> keys_;
    std::vector<uint32_t> vals_;
    size_t size_ = 0;
};

}  // namespace sds::score
