#pragma once
// Test helpers for push streams: feeding one input in chunks of every shape, with each chunk
// in its own exactly-sized allocation (chunk + io::padding, padding filled with junk) so that
// AddressSanitizer catches any read past the padding contract, and compressing test inputs.
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sds/io/stream.hpp"

namespace sds::test {

// Pushes `chunk` into `c` from an exactly-sized padded copy. The padding is filled with '{'
// and '"' so that code wrongly reading past the chunk sees JSON-looking junk, not zeros.
inline status push_padded(io::chunk_consumer& c, std::string_view chunk) {
    std::vector<char> buf(chunk.size() + io::padding);
    if (!chunk.empty()) std::memcpy(buf.data(), chunk.data(), chunk.size());
    for (size_t i = 0; i < io::padding; ++i) buf[chunk.size() + i] = (i & 1) ? '"' : '{';
    return c.consume({buf.data(), chunk.size()});
}

// Feeds `input` cut at the given offsets (sorted, inside (0, size)), then finish().
inline status feed_cuts(io::chunk_consumer& c, std::string_view input, const std::vector<size_t>& cuts) {
    size_t prev = 0;
    for (size_t cut : cuts) {
        if (auto s = push_padded(c, input.substr(prev, cut - prev)); !s) return s;
        prev = cut;
    }
    if (auto s = push_padded(c, input.substr(prev)); !s) return s;
    return c.finish();
}

// Feeds `input` in chunks of `n` bytes (the last one shorter), then finish().
inline status feed_chunks(io::chunk_consumer& c, std::string_view input, size_t n) {
    std::vector<size_t> cuts;
    for (size_t i = n; i < input.size(); i += n) cuts.push_back(i);
    return feed_cuts(c, input, cuts);
}

// Every way of feeding `input` we check for identical results: whole, every two-way split,
// and fixed chunk sizes from 1 byte up to the whole input.
template <class F>
void for_each_split(std::string_view input, F&& f) {
    f(std::vector<size_t>{});
    for (size_t i = 1; i < input.size(); ++i) f(std::vector<size_t>{i});
    for (size_t n = 1; n < input.size(); ++n) {
        std::vector<size_t> cuts;
        for (size_t i = n; i < input.size(); i += n) cuts.push_back(i);
        f(cuts);
    }
}

inline std::string gzip(std::string_view data, int level = 6) {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int r = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (r != Z_STREAM_END) throw std::runtime_error("deflate");
    out.resize(z.total_out);
    return out;
}

// As the zstd command line does: with a content checksum.
inline std::string zstd(std::string_view data, int level = 3) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(n)) throw std::runtime_error("zstd");
    out.resize(n);
    return out;
}

// Deterministic pseudo-random bytes (xorshift), for incompressible payloads.
inline std::string noise(size_t n, uint64_t seed = 88172645463325252ULL) {
    std::string s(n, '\0');
    for (auto& c : s) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        c = static_cast<char>('a' + seed % 26);
    }
    return s;
}

}  // namespace sds::test
