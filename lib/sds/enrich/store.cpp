#include "sds/enrich/store.hpp"

#include <algorithm>
#include <cstring>

#include "sds/core/hash.hpp"
#include "sds/core/time.hpp"
#include "sds/json/escape.hpp"

namespace sds::enrich {

namespace {

uint32_t to_secs(int64_t ms) {
    if (ms <= 0) return 0;
    int64_t s = ms / 1000;
    return s > int64_t(UINT32_MAX) ? UINT32_MAX : uint32_t(s);
}

uint32_t mask4(uint32_t v, int prefix) { return prefix == 0 ? 0 : v & (~uint32_t(0) << (32 - prefix)); }

std::array<uint8_t, 16> mask6(const std::array<uint8_t, 16>& b, int prefix) {
    std::array<uint8_t, 16> r{};
    for (int i = 0; i < 16; ++i) {
        int bits = prefix - i * 8;
        if (bits >= 8)
            r[i] = b[i];
        else if (bits > 0)
            r[i] = uint8_t(b[i] & (0xff << (8 - bits)));
    }
    return r;
}

void member(std::string& out, std::string_view key, std::string_view value) {
    if (value.empty()) return;
    out.push_back(',');
    json::append_string(out, key);
    out.push_back(':');
    json::append_string_lossy(out, value);
}

// A digest as two words, for comparisons that stay in registers (any consistent order will do).
std::pair<uint64_t, uint64_t> digest_key(const md5_digest& d) {
    uint64_t a, b;
    std::memcpy(&a, d.data(), 8);
    std::memcpy(&b, d.data() + 8, 8);
    return {a, b};
}

// The tables' hash: 8 bytes at a time with a multiply-xorshift step and a final avalanche.
// In memory only (never persisted), so it is free to change.
uint64_t key_hash(std::string_view k) {
    constexpr uint64_t m1 = 0xff51afd7ed558ccdull, m2 = 0xc4ceb9fe1a85ec53ull;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (k.size() * m2);
    const char* p = k.data();
    size_t n = k.size();
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * m1;
        h ^= h >> 32;
    }
    if (n) {
        uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * m1;
        h ^= h >> 32;
    }
    h ^= h >> 33;
    h *= m2;
    h ^= h >> 29;
    return h;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Hex digest (32, 40 or 64 digits) → its bytes in `out`; false when it is not one.
bool hex_to_bytes(std::string_view hex, std::array<char, 32>& out) {
    if (!(hex.size() == 32 || hex.size() == 40 || hex.size() == 64)) return false;
    for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = char(hi << 4 | lo);
    }
    return true;
}

// Heap bytes behind a std::string (nothing while it fits the small-string buffer).
size_t heap_of(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

}  // namespace

uint32_t store::key_table::find(const store& s, std::string_view key) const {
    if (slots_.empty()) return none;
    uint32_t tag = uint32_t(key_hash(key) >> 32);
    size_t n = slots_.size();
    size_t i = home(tag, n);
    while (true) {
        const slot& sl = slots_[i];
        if (!sl.idx1) return none;
        if (sl.tag == tag && s.key(s.inds_[sl.idx1 - 1]) == key) return sl.idx1 - 1;
        if (++i == n) i = 0;
    }
}

void store::key_table::rebuild(size_t n) {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.assign(n, slot{});
    for (const slot& o : old) {
        if (!o.idx1) continue;
        size_t i = home(o.tag, n);
        while (slots_[i].idx1)
            if (++i == n) i = 0;
        slots_[i] = o;
    }
}

void store::key_table::compact() {
    // Load factor 0.7 once loading is over (0.75 at most while it grows).
    size_t n = used_ ? used_ * 10 / 7 + 8 : 0;
    if (n < slots_.size()) rebuild(n);
}

uint32_t store::key_table::insert(const store& s, std::string_view key, uint32_t idx) {
    if ((used_ + 1) * 4 > slots_.size() * 3) rebuild(std::max<size_t>(1024, slots_.size() * 2));
    uint32_t tag = uint32_t(key_hash(key) >> 32);
    size_t n = slots_.size();
    size_t i = home(tag, n);
    while (true) {
        slot& sl = slots_[i];
        if (!sl.idx1) {
            sl = slot{idx + 1, tag};
            ++used_;
            return none;
        }
        if (sl.tag == tag && s.key(s.inds_[sl.idx1 - 1]) == key) return sl.idx1 - 1;
        if (++i == n) i = 0;
    }
}

uint32_t store::add_context(context_info c) {
    context x;
    x.info = std::move(c);
    if (!x.info.confidence.empty()) member(x.json, "confidence", x.info.confidence);
    if (!x.info.tlp.empty()) {
        x.json.append(",\"marking\":{\"tlp\":");
        json::append_string_lossy(x.json, x.info.tlp);
        x.json.push_back('}');
    }
    member(x.json, "reference", x.info.reference);
    ctxs_.push_back(std::move(x));
    return uint32_t(ctxs_.size() - 1);
}

std::pair<uint32_t, uint32_t> store::times_of(uint32_t idx) const {
    return idx < times_.size() ? times_[idx] : std::pair<uint32_t, uint32_t>{0, 0};
}

void store::merge_times(uint32_t idx, uint32_t first, uint32_t last) {
    auto [f, l] = times_of(idx);
    uint32_t nf = (f && first) ? std::min(f, first) : std::max(f, first);
    uint32_t nl = std::max(l, last);
    if (nf == f && nl == l) return;
    if (times_.size() <= idx) times_.resize(idx + 1);
    times_[idx] = {nf, nl};
}

bool store::add(const classified& c, uint32_t context, const indicator_times& t) {
    ind i;
    i.ctx = context;
    i.type = c.type;
    uint32_t first = to_secs(t.first_seen_ms), last = to_secs(t.last_seen_ms);
    std::string_view note = t.comment.size() > 4096 ? t.comment.substr(0, 4096) : t.comment;
    i.com_len = uint16_t(note.size());
    i.val_off = uint32_t(arena_.size());
    uint32_t idx = uint32_t(inds_.size());
    if (c.type == ind_type::ip) {
        i.v4 = c.net.base.v4;
        i.prefix = uint8_t(c.net.prefix);
        const char* bytes = reinterpret_cast<const char*>(c.net.base.bytes.data());
        if (i.v4)
            arena_.append(bytes + 12, 4);
        else
            arena_.append(bytes, 16);
        i.val_len = uint16_t(arena_.size() - i.val_off);
        arena_.append(note);
        inds_.push_back(i);
        merge_times(idx, first, last);
        if (i.v4)
            v4_[i.prefix].emplace_back(mask4(c.net.base.v4_value(), i.prefix), idx);
        else
            v6_[i.prefix].emplace_back(mask6(c.net.base.bytes, i.prefix), idx);
        return true;
    }
    std::string_view k = c.value;
    std::array<char, 32> digest;
    if (c.type == ind_type::md5 || c.type == ind_type::sha1 || c.type == ind_type::sha256) {
        if (!hex_to_bytes(c.value, digest)) return false;
        k = std::string_view(digest.data(), c.value.size() / 2);
    }
    if (k.size() > 65535) return false;
    i.val_len = uint16_t(k.size());
    arena_.append(k);
    arena_.append(note);
    inds_.push_back(i);
    uint32_t existing = table_for(c.type).insert(*this, k, idx);
    if (existing != none) {
        inds_.pop_back();
        arena_.resize(i.val_off);
        merge_times(existing, first, last);
        extra_ctx_[existing].push_back(context);
        return false;
    }
    merge_times(idx, first, last);
    return true;
}

size_t store::absorb(store&& o) {
    uint32_t base = uint32_t(ctxs_.size());
    for (auto& c : o.ctxs_) ctxs_.push_back(std::move(c));
    auto extras_of = [&](uint32_t j, std::vector<uint32_t>& to) {
        auto it = o.extra_ctx_.find(j);
        if (it == o.extra_ctx_.end()) return;
        for (uint32_t x : it->second) to.push_back(x + base);
    };
    size_t dups = 0;
    arena_.reserve(arena_.size() + o.arena_.size());
    inds_.reserve(inds_.size() + o.inds_.size());
    for (uint32_t j = 0; j < o.inds_.size(); ++j) {
        const ind& x = o.inds_[j];
        auto [first, last] = o.times_of(j);
        ind i = x;
        i.ctx = x.ctx + base;
        i.val_off = uint32_t(arena_.size());
        std::string_view k = o.key(x);
        arena_.append(k);
        arena_.append(o.comment(x));
        uint32_t idx = uint32_t(inds_.size());
        inds_.push_back(i);
        if (x.type == ind_type::ip) {
            merge_times(idx, first, last);
            if (x.v4) {
                uint32_t v = (uint32_t(uint8_t(k[0])) << 24) | (uint32_t(uint8_t(k[1])) << 16) |
                             (uint32_t(uint8_t(k[2])) << 8) | uint8_t(k[3]);
                v4_[x.prefix].emplace_back(mask4(v, x.prefix), idx);
            } else {
                std::array<uint8_t, 16> b;
                std::copy_n(reinterpret_cast<const uint8_t*>(k.data()), 16, b.begin());
                v6_[x.prefix].emplace_back(mask6(b, x.prefix), idx);
            }
            if (o.extra_ctx_.count(j)) extras_of(j, extra_ctx_[idx]);
            continue;
        }
        uint32_t existing = table_for(x.type).insert(*this, k, idx);
        if (existing != none) {
            inds_.pop_back();
            arena_.resize(i.val_off);
            merge_times(existing, first, last);
            auto& extra = extra_ctx_[existing];
            extra.push_back(i.ctx);
            extras_of(j, extra);
            ++dups;
            continue;
        }
        merge_times(idx, first, last);
        if (o.extra_ctx_.count(j)) extras_of(j, extra_ctx_[idx]);
    }
    vhashes_.reserve(vhashes_.size() + o.vhashes_.size());
    for (const auto& v : o.vhashes_) vhashes_.push_back({v.digest, v.ctx + base});
    merged_ += o.merged_;
    o = store();
    return dups;
}

size_t store::finalize() {
    std::sort(vhashes_.begin(), vhashes_.end(), [](const value_hash& a, const value_hash& b) {
        auto ka = digest_key(a.digest), kb = digest_key(b.digest);
        return ka < kb || (ka == kb && a.ctx < b.ctx);
    });
    vhashes_.shrink_to_fit();
    vfilter_.clear();
    if (!vhashes_.empty()) {
        size_t bits = 1 << 16;
        while (bits < vhashes_.size() * 16) bits <<= 1;
        vfilter_.assign(bits / 64, 0);
        for (const auto& v : vhashes_) {
            uint64_t b = digest_key(v.digest).second & (bits - 1);
            vfilter_[b >> 6] |= uint64_t(1) << (b & 63);
        }
    }
    size_t dups = 0;
    auto merge_sorted = [&](auto& vec) {
        std::sort(vec.begin(), vec.end(), [](const auto& a, const auto& b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
        size_t w = 0;
        for (size_t r = 0; r < vec.size(); ++r) {
            if (w > 0 && vec[w - 1].first == vec[r].first) {
                uint32_t keep = vec[w - 1].second, dup = vec[r].second;
                auto& extra = extra_ctx_[keep];
                extra.push_back(inds_[dup].ctx);
                if (auto it = extra_ctx_.find(dup); it != extra_ctx_.end()) {
                    extra.insert(extra.end(), it->second.begin(), it->second.end());
                    extra_ctx_.erase(it);
                }
                auto [df, dl] = times_of(dup);
                merge_times(keep, df, dl);
                ++dups;
                continue;
            }
            vec[w++] = vec[r];
        }
        vec.resize(w);
        vec.shrink_to_fit();
    };
    v4_lens_.clear();
    v6_lens_.clear();
    for (int p = 32; p >= 0; --p) {
        merge_sorted(v4_[p]);
        if (!v4_[p].empty()) v4_lens_.push_back(p);
    }
    for (int p = 128; p >= 0; --p) {
        merge_sorted(v6_[p]);
        if (!v6_[p].empty()) v6_lens_.push_back(p);
    }
    merged_ += dups;
    inds_.shrink_to_fit();
    arena_.shrink_to_fit();
    times_.shrink_to_fit();
    domains_.compact();
    urls_.compact();
    hashes_.compact();
    // Dedupe provider lists.
    for (auto& [k, v] : extra_ctx_) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        v.erase(std::remove(v.begin(), v.end(), inds_[k].ctx), v.end());
    }
    return dups;
}

size_t store::memory_bytes() const {
    size_t b = inds_.capacity() * sizeof(ind) + heap_of(arena_) + times_.capacity() * sizeof(times_[0]);
    for (const auto& v : v4_) b += v.capacity() * sizeof(v[0]);
    for (const auto& v : v6_) b += v.capacity() * sizeof(v[0]);
    b += (v4_lens_.capacity() + v6_lens_.capacity()) * sizeof(int);
    b += domains_.memory_bytes() + urls_.memory_bytes() + hashes_.memory_bytes();
    b += ctxs_.capacity() * sizeof(context);
    b += vhashes_.capacity() * sizeof(value_hash) + vfilter_.capacity() * sizeof(uint64_t);
    for (const auto& c : ctxs_)
        b += heap_of(c.json) + heap_of(c.info.provider) + heap_of(c.info.description) + heap_of(c.info.tlp) +
             heap_of(c.info.reference) + heap_of(c.info.confidence);
    // unordered_map: the bucket array, one node per entry (key, vector, next pointer, cached
    // hash; 48 bytes with the allocator's header) and each vector's block.
    b += extra_ctx_.bucket_count() * sizeof(void*) + extra_ctx_.size() * 48;
    for (const auto& [k, v] : extra_ctx_) b += v.capacity() ? v.capacity() * sizeof(uint32_t) + 16 : 0;
    return b;
}

uint32_t store::match_ip(const ip::address& a) const {
    if (a.v4) {
        uint32_t v = a.v4_value();
        for (int p : v4_lens_) {
            uint32_t key = mask4(v, p);
            const auto& vec = v4_[p];
            auto it = std::lower_bound(vec.begin(), vec.end(), key, [](const auto& e, uint32_t k) { return e.first < k; });
            if (it != vec.end() && it->first == key) return it->second;
        }
        return none;
    }
    for (int p : v6_lens_) {
        auto key = mask6(a.bytes, p);
        const auto& vec = v6_[p];
        auto it = std::lower_bound(vec.begin(), vec.end(), key, [](const auto& e, const auto& k) { return e.first < k; });
        if (it != vec.end() && it->first == key) return it->second;
    }
    return none;
}

uint32_t store::match_domain(std::string_view d) const {
    // Stored domains all have a dot (normalize_domain), so a last label alone ("com") is
    // not looked up.
    auto dot = d.find('.');
    while (dot != std::string_view::npos) {
        uint32_t r = domains_.find(*this, d);
        if (r != none) return r;
        d.remove_prefix(dot + 1);
        dot = d.find('.');
    }
    return none;
}

uint32_t store::match_hash(std::string_view h) const {
    std::array<char, 32> digest;
    if (!hex_to_bytes(h, digest)) return none;
    return hashes_.find(*this, std::string_view(digest.data(), h.size() / 2));
}

std::pair<uint32_t, uint32_t> store::match_value_hash(const md5_digest& h) const {
    auto key = digest_key(h);
    if (vfilter_.empty()) return {0, 0};
    uint64_t b = key.second & (vfilter_.size() * 64 - 1);
    if (!(vfilter_[b >> 6] >> (b & 63) & 1)) return {0, 0};
    auto lo = std::lower_bound(vhashes_.begin(), vhashes_.end(), key,
                               [](const value_hash& v, const auto& k) { return digest_key(v.digest) < k; });
    auto hi = lo;
    while (hi != vhashes_.end() && digest_key(hi->digest) == key) ++hi;
    return {uint32_t(lo - vhashes_.begin()), uint32_t(hi - vhashes_.begin())};
}

std::string store::value_text(uint32_t idx) const {
    const auto& i = inds_[idx];
    std::string_view k = key(i);
    if (i.type == ind_type::domain || i.type == ind_type::url) return std::string(k);
    if (i.type != ind_type::ip) {
        static const char digits[] = "0123456789abcdef";
        std::string s;
        s.reserve(k.size() * 2);
        for (char c : k) {
            s.push_back(digits[uint8_t(c) >> 4]);
            s.push_back(digits[uint8_t(c) & 15]);
        }
        return s;
    }
    ip::address a;
    a.v4 = i.v4;
    if (i.v4) {
        a.bytes[10] = a.bytes[11] = 0xff;
        std::copy_n(reinterpret_cast<const uint8_t*>(k.data()), 4, a.bytes.begin() + 12);
    } else {
        std::copy_n(reinterpret_cast<const uint8_t*>(k.data()), 16, a.bytes.begin());
    }
    std::string s = ip::to_string(a);
    if (i.prefix != (i.v4 ? 32 : 128)) {
        s.push_back('/');
        s.append(std::to_string(i.prefix));
    }
    return s;
}

namespace {

// The start of a threat.enrichments entry: the indicator's ECS type, name, and its value under
// ip (an exact address), url or file.hash.
void indicator_head(std::string& out, ind_type type, bool v4, std::string_view value, bool exact_ip) {
    out.append("{\"indicator\":{\"type\":");
    json::append_string(out, ecs_type(type, v4));
    member(out, "name", value);
    switch (type) {
        case ind_type::ip:
            if (exact_ip) member(out, "ip", value);
            break;
        case ind_type::domain:
            out.append(",\"url\":{\"domain\":");
            json::append_string_lossy(out, value);
            out.push_back('}');
            break;
        case ind_type::url:
            out.append(",\"url\":{\"full\":");
            json::append_string_lossy(out, value);
            out.push_back('}');
            break;
        case ind_type::md5:
        case ind_type::sha1:
        case ind_type::sha256:
            out.append(",\"file\":{\"hash\":{");
            json::append_string(out, type == ind_type::md5 ? "md5" : type == ind_type::sha1 ? "sha1" : "sha256");
            out.push_back(':');
            json::append_string(out, value);
            out.append("}}");
            break;
    }
}

// Closes the indicator and adds what it matched.
void matched_tail(std::string& out, std::string_view atomic, std::string_view field) {
    out.append("},\"matched\":{\"atomic\":");
    json::append_string_lossy(out, atomic);
    out.append(",\"field\":");
    json::append_string(out, field);
    out.append(",\"type\":\"indicator_match_rule\"}}");
}

}  // namespace

void store::render(uint32_t idx, std::string_view atomic, std::string_view field, std::string& out) const {
    const auto& i = inds_[idx];
    const auto& c = ctxs_[i.ctx];
    std::string value = value_text(idx);
    indicator_head(out, i.type, i.v4, value, i.prefix == (i.v4 ? 32 : 128));
    // Providers: the first feed's, then every other feed that published it.
    auto extra = extra_ctx_.find(idx);
    if (extra == extra_ctx_.end() || extra->second.empty()) {
        member(out, "provider", c.info.provider);
    } else {
        std::vector<std::string_view> names{c.info.provider};
        for (uint32_t x : extra->second)
            if (std::find(names.begin(), names.end(), ctxs_[x].info.provider) == names.end())
                names.push_back(ctxs_[x].info.provider);
        if (names.size() == 1) {
            member(out, "provider", names[0]);
        } else {
            out.append(",\"provider\":[");
            for (size_t k = 0; k < names.size(); ++k) {
                if (k) out.push_back(',');
                json::append_string_lossy(out, names[k]);
            }
            out.push_back(']');
        }
    }
    auto [first_seen, last_seen] = times_of(idx);
    if (first_seen) {
        out.append(",\"first_seen\":\"");
        time::append_rfc3339(out, int64_t(first_seen) * 1000);
        out.push_back('"');
    }
    if (last_seen) {
        out.append(",\"last_seen\":\"");
        time::append_rfc3339(out, int64_t(last_seen) * 1000);
        out.push_back('"');
    }
    std::string_view note = comment(i);
    member(out, "description", note.empty() ? std::string_view(c.info.description) : note);
    out.append(c.json);
    matched_tail(out, atomic, field);
}

void store::render_value_hash(uint32_t k, ind_type type, bool v4, std::string_view value, std::string_view atomic,
                              std::string_view field, std::string& out) const {
    const auto& c = ctxs_[vhashes_[k].ctx];
    // The feed published this very value (same md5), so the indicator's value and its ECS type
    // are those of what was hashed; the MISP attribute (its type, to_ids flag, comment, times)
    // is in the event file that was not loaded.
    indicator_head(out, type, v4, value, true);
    member(out, "provider", c.info.provider);
    member(out, "description", c.info.description);
    out.append(c.json);
    matched_tail(out, atomic, field);
}

}  // namespace sds::enrich
