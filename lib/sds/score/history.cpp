#include "sds/score/history.hpp"

#include <errno.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <vector>

namespace sds::score {

namespace {
constexpr char state_magic[8] = {'S', 'D', 'S', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t state_version = 1;
struct state_header {
    char magic[8];
    uint32_t version, pad;
    uint64_t n_first, n_last, checksum;
};
struct first_rec {
    uint64_t key;
    int64_t ts;
};
struct last_rec {
    uint64_t key;
    int64_t ts;
    double lat, lon;
};
}  // namespace

void history::learn(const pair& p, time::millis now) {
    time::millis t = p.ts.value_or(now);
    seen_values sv = values_of(p);
    for (int k = 0; k < seen_kinds; ++k) {
        if (!sv.has[k]) continue;
        auto ins = [&](uint64_t key) {
            auto [it, fresh] = first_.emplace(key, t);
            if (!fresh && t < it->second) it->second = t;
        };
        ins(seen_key(p.entity_key, seen_kind(k), sv.v[k]));
        if (k != 0) ins(seen_key(0, seen_kind(k), sv.v[k]));
    }
}

expected<history> history::load(const std::string& path) {
    history h;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return h;
        return make_error(exit_code::runtime, fmt::format("cannot read state: {} ({})", path, std::strerror(errno)));
    }
    std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    state_header sh{};
    if (data.size() < sizeof sh) return make_error(exit_code::usage, fmt::format("not an sds-score state file: {} (too short)", path));
    std::memcpy(&sh, data.data(), sizeof sh);
    if (std::memcmp(sh.magic, state_magic, 8) != 0)
        return make_error(exit_code::usage, fmt::format("not an sds-score state file: {} (bad magic)", path));
    if (sh.version != state_version)
        return make_error(exit_code::usage, fmt::format("unsupported state version: {} (version {})", path, sh.version));
    uint64_t body = sh.n_first * sizeof(first_rec) + sh.n_last * sizeof(last_rec);
    if (data.size() != sizeof sh + body || checksum(data.data() + sizeof sh, body) != sh.checksum)
        return make_error(exit_code::usage, fmt::format("corrupt state file: {} (size or checksum mismatch)", path));
    const char* p = data.data() + sizeof sh;
    h.first_.reserve(sh.n_first);
    for (uint64_t i = 0; i < sh.n_first; ++i, p += sizeof(first_rec)) {
        first_rec r;
        std::memcpy(&r, p, sizeof r);
        h.first_.emplace(r.key, r.ts);
    }
    for (uint64_t i = 0; i < sh.n_last; ++i, p += sizeof(last_rec)) {
        last_rec r;
        std::memcpy(&r, p, sizeof r);
        h.last_.emplace(r.key, last_position{r.ts, r.lat, r.lon});
    }
    return h;
}

status history::save(const std::string& path) const {
    std::vector<first_rec> f;
    f.reserve(first_.size());
    for (auto& [k, t] : first_) f.push_back({k, t});
    std::sort(f.begin(), f.end(), [](const first_rec& a, const first_rec& b) { return a.key < b.key; });
    std::vector<last_rec> l;
    for (auto& [k, v] : last_) l.push_back({k, v.ts, v.lat, v.lon});
    std::sort(l.begin(), l.end(), [](const last_rec& a, const last_rec& b) { return a.key < b.key; });
    std::string body;
    body.append(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(first_rec));
    body.append(reinterpret_cast<const char*>(l.data()), l.size() * sizeof(last_rec));
    state_header sh{};
    std::memcpy(sh.magic, state_magic, 8);
    sh.version = state_version;
    sh.n_first = f.size();
    sh.n_last = l.size();
    sh.checksum = checksum(body.data(), body.size());
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) return make_error(exit_code::runtime, fmt::format("cannot write state: {} ({})", path, std::strerror(errno)));
    bool ok = std::fwrite(&sh, sizeof sh, 1, out) == 1 && (body.empty() || std::fwrite(body.data(), body.size(), 1, out) == 1);
    ok = (std::fflush(out) == 0) && ok;
    ok = (::fsync(::fileno(out)) == 0) && ok;
    int e = errno;
    ok = (std::fclose(out) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        if (ok) e = errno;
        std::remove(tmp.c_str());
        return make_error(exit_code::runtime, fmt::format("cannot write state: {} ({})", path, std::strerror(e)));
    }
    return {};
}

}  // namespace sds::score
