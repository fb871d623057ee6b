#include "sds/enrich/md5.hpp"

#include <cstring>

namespace sds::enrich {

namespace {

constexpr uint32_t rotl(uint32_t x, unsigned c) { return (x << c) | (x >> (32 - c)); }

// T[i] = floor(2^32 * |sin(i + 1)|), the RFC's table.
constexpr uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

// Per-round shift amounts, four per round.
constexpr unsigned S[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

// One step: a = b + rotl(a + f(b, c, d) + m[g] + K[i], s), then the four words rotate.
template <int Round>
inline void step(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d, uint32_t mg, uint32_t k, unsigned s) {
    uint32_t f;
    if constexpr (Round == 0) f = d ^ (b & (c ^ d));
    else if constexpr (Round == 1) f = c ^ (d & (b ^ c));
    else if constexpr (Round == 2) f = b ^ c ^ d;
    else f = c ^ (b | ~d);
    uint32_t t = d;
    d = c;
    c = b;
    b = b + rotl(a + f + k + mg, s);
    a = t;
}

void block(uint32_t st[4], const uint8_t* p) {
    uint32_t m[16];
    for (int i = 0; i < 16; ++i)
        m[i] = uint32_t(p[4 * i]) | (uint32_t(p[4 * i + 1]) << 8) | (uint32_t(p[4 * i + 2]) << 16) |
               (uint32_t(p[4 * i + 3]) << 24);
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    // Fully unrolled (the message index and shift of each step are then constants).
#pragma GCC unroll 16
    for (unsigned i = 0; i < 16; ++i) step<0>(a, b, c, d, m[i], K[i], S[i % 4]);
#pragma GCC unroll 16
    for (unsigned i = 16; i < 32; ++i) step<1>(a, b, c, d, m[(5 * i + 1) % 16], K[i], S[4 + i % 4]);
#pragma GCC unroll 16
    for (unsigned i = 32; i < 48; ++i) step<2>(a, b, c, d, m[(3 * i + 5) % 16], K[i], S[8 + i % 4]);
#pragma GCC unroll 16
    for (unsigned i = 48; i < 64; ++i) step<3>(a, b, c, d, m[(7 * i) % 16], K[i], S[12 + i % 4]);
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

md5_digest md5(std::string_view data) noexcept {
    uint32_t st[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
    size_t n = data.size();
    size_t full = n / 64;
    for (size_t k = 0; k < full; ++k) block(st, p + 64 * k);
    // The tail, the 0x80 marker, zeros and the message length in bits (little-endian).
    uint8_t tail[128] = {};
    size_t rest = n - full * 64;
    if (rest) std::memcpy(tail, p + full * 64, rest);
    tail[rest] = 0x80;
    size_t len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = uint64_t(n) * 8;
    for (int i = 0; i < 8; ++i) tail[len - 8 + i] = uint8_t(bits >> (8 * i));
    block(st, tail);
    if (len == 128) block(st, tail + 64);
    md5_digest out;
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) out[size_t(4 * i + j)] = uint8_t(st[i] >> (8 * j));
    return out;
}

bool md5_from_hex(std::string_view hex, md5_digest& out) noexcept {
    if (hex.size() != 32) return false;
    for (size_t i = 0; i < 16; ++i) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = uint8_t(hi * 16 + lo);
    }
    return true;
}

}  // namespace sds::enrich
