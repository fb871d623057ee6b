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

}  // namespace sds::hash
