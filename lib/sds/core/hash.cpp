#include "sds/core/hash.hpp"

namespace sds::hash {

namespace {
uint64_t finish(uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}
}  // namespace

uint64_t stable64(std::string_view data, uint64_t seed) noexcept {
    uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
    for (unsigned char c : data) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return finish(h);
}

void hex128_hasher::append_to(std::string& out) const {
    static constexpr char hex[] = "0123456789abcdef";
    uint64_t a = finish(a_), b = finish(b_);
    size_t at = out.size();
    out.resize(at + 32);
    char* p = out.data() + at;
    for (int i = 0; i < 16; ++i) {
        p[15 - i] = hex[a & 15];
        a >>= 4;
        p[31 - i] = hex[b & 15];
        b >>= 4;
    }
}

void append_hex128(std::string& out, std::string_view data) {
    hex128_hasher h;
    h.add(data);
    h.append_to(out);
}

std::string hex128(std::string_view data) {
    std::string s;
    append_hex128(s, data);
    return s;
}

}  // namespace sds::hash
