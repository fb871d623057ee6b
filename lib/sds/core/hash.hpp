#pragma once
// Stable, fast non-cryptographic hashing for ids and sharding (XXH64-style 64-bit mixing of our
// own, fixed forever: event ids derived from it must never change between versions).
#include <cstdint>
#include <string>
#include <string_view>

namespace sds::hash {

// 64-bit FNV-1a followed by a murmur3 finaliser; stable across platforms and versions.
uint64_t stable64(std::string_view data, uint64_t seed = 0) noexcept;
// 128-bit id as 32 lower-case hex characters (two independent 64-bit lanes).
std::string hex128(std::string_view data);
// Appends hex128(data) to `out` (no string of its own).
void append_hex128(std::string& out, std::string_view data);

// hex128 of the concatenation of the parts given to add(), without building it: both lanes in
// one pass (two independent multiply chains run side by side, so a long input costs the time of
// one). Equal to hex128 forever (event and document ids); unit tests hold it to that.
class hex128_hasher {
public:
    void add(std::string_view s) noexcept {
        uint64_t a = a_, b = b_;
        for (unsigned char c : s) {
            a = (a ^ c) * prime;
            b = (b ^ c) * prime;
        }
        a_ = a;
        b_ = b;
    }
    // Appends the 32 hex characters of what was added so far.
    void append_to(std::string& out) const;

private:
    static constexpr uint64_t prime = 0x100000001b3ULL;
    static constexpr uint64_t basis = 0xcbf29ce484222325ULL;
    uint64_t a_ = basis ^ (1 * 0x9e3779b97f4a7c15ULL);  // stable64 seed 1
    uint64_t b_ = basis ^ (2 * 0x9e3779b97f4a7c15ULL);  // stable64 seed 2
};

}  // namespace sds::hash
