#include "sds/core/hash.hpp"

namespace sds::hash {

uint64_t stable64(std::string_view data, uint64_t seed) noexcept {
    uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
    for (unsigned char c : data) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

std::string hex128(std::string_view data) {
    static constexpr char hex[] = "0123456789abcdef";
    uint64_t a = stable64(data, 1), b = stable64(data, 2);
    std::string s(32, '0');
    for (int i = 0; i < 16; ++i) {
        s[15 - i] = hex[a & 15];
        a >>= 4;
        s[31 - i] = hex[b & 15];
        b >>= 4;
    }
    return s;
}

}  // namespace sds::hash
