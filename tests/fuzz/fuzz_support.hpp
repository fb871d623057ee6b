#pragma once
// Shared by the fuzz targets: feeding an input in chunks chosen by the input itself, and
// failing loudly (abort, so libFuzzer saves the input) when an invariant breaks.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "sds/io/stream.hpp"

namespace sds::fuzz {

#define SDS_FUZZ_CHECK(cond)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)

// Pushes `data` into `c` in chunks of `chunk` bytes, each in an exactly-sized padded copy
// (so ASan sees reads past the padding contract), then finish(). Returns the final status.
inline status feed(io::chunk_consumer& c, std::string_view data, size_t chunk) {
    if (chunk == 0) chunk = data.size() ? data.size() : 1;
    std::vector<char> buf;
    for (size_t off = 0; off < data.size(); off += chunk) {
        size_t n = std::min(chunk, data.size() - off);
        buf.assign(n + io::padding, '{');
        std::memcpy(buf.data(), data.data() + off, n);
        if (auto s = c.consume({buf.data(), n}); !s) return s;
    }
    return c.finish();
}

}  // namespace sds::fuzz
