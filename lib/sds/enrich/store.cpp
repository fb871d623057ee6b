#include "sds/enrich/store.hpp"

#include <algorithm>

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

}  // namespace

uint32_t store::string_table::find(const store& s, std::string_view key) const {
    if (slots_.empty()) return none;
    size_t mask = slots_.size() - 1;
    size_t i = hash::stable64(key) & mask;
    while (uint32_t v = slots_[i]) {
        if (s.text(s.inds_[v - 1]) == key) return v - 1;
        i = (i + 1) & mask;
    }
    return none;
}

void store::string_table::grow(const store& s) {
    std::vector<uint32_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    size_t mask = slots_.size() - 1;
    for (uint32_t v : old) {
        if (!v) continue;
        size_t i = hash::stable64(s.text(s.inds_[v - 1])) & mask;
        while (slots_[i]) i = (i + 1) & mask;
        slots_[i] = v;
    }
}

uint32_t store::string_table::insert(const store& s, std::string_view key, uint32_t idx) {
    if ((used_ + 1) * 2 > slots_.size()) grow(s);
    size_t mask = slots_.size() - 1;
    size_t i = hash::stable64(key) & mask;
    while (uint32_t v = slots_[i]) {
        if (s.text(s.inds_[v - 1]) == key) return v - 1;
        i = (i + 1) & mask;
    }
    slots_[i] = idx + 1;
    ++used_;
    return none;
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

bool store::add(const classified& c, uint32_t context, const indicator_times& t) {
    ind i;
    i.ctx = context;
    i.type = c.type;
    i.first_seen = to_secs(t.first_seen_ms);
    i.last_seen = to_secs(t.last_seen_ms);
    i.val_off = uint32_t(arena_.size());
    std::string_view comment = t.comment.size() > 4096 ? t.comment.substr(0, 4096) : t.comment;
    uint32_t idx = uint32_t(inds_.size());
    if (c.type == ind_type::ip) {
        i.v4 = c.net.base.v4;
        i.prefix = uint8_t(c.net.prefix);
        i.val_len = 16;
        i.com_len = uint16_t(comment.size());
        arena_.append(reinterpret_cast<const char*>(c.net.base.bytes.data()), 16);
        arena_.append(comment);
        inds_.push_back(i);
        if (i.v4)
            v4_[i.prefix].emplace_back(mask4(c.net.base.v4_value(), i.prefix), idx);
        else
            v6_[i.prefix].emplace_back(mask6(c.net.base.bytes, i.prefix), idx);
        return true;
    }
    if (c.value.size() > 65535) return false;
    i.val_len = uint16_t(c.value.size());
    i.com_len = uint16_t(comment.size());
    string_table& table = c.type == ind_type::domain ? domains_ : c.type == ind_type::url ? urls_ : hashes_;
    uint32_t existing = table.find(*this, c.value);
    if (existing != none) {
        auto& e = inds_[existing];
        e.first_seen = (e.first_seen && i.first_seen) ? std::min(e.first_seen, i.first_seen) : std::max(e.first_seen, i.first_seen);
        e.last_seen = std::max(e.last_seen, i.last_seen);
        extra_ctx_[existing].push_back(context);
        return false;
    }
    arena_.append(c.value);
    arena_.append(comment);
    inds_.push_back(i);
    table.insert(*this, c.value, idx);
    return true;
}


size_t store::finalize() {
    size_t dups = 0;
    auto merge_sorted = [&](auto& vec) {
        std::sort(vec.begin(), vec.end(), [](const auto& a, const auto& b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
        size_t w = 0;
        for (size_t r = 0; r < vec.size(); ++r) {
            if (w > 0 && vec[w - 1].first == vec[r].first) {
                auto& keep = inds_[vec[w - 1].second];
                const auto& dup = inds_[vec[r].second];
                auto& extra = extra_ctx_[vec[w - 1].second];
                extra.push_back(dup.ctx);
                if (auto it = extra_ctx_.find(vec[r].second); it != extra_ctx_.end() && it->first != vec[w - 1].second)
                    extra.insert(extra.end(), it->second.begin(), it->second.end());
                keep.last_seen = std::max(keep.last_seen, dup.last_seen);
                if (!keep.first_seen || (dup.first_seen && dup.first_seen < keep.first_seen)) keep.first_seen = dup.first_seen;
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
    // Dedupe provider lists.
    for (auto& [k, v] : extra_ctx_) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        v.erase(std::remove(v.begin(), v.end(), inds_[k].ctx), v.end());
    }
    return dups;
}

size_t store::memory_bytes() const {
    size_t b = inds_.capacity() * sizeof(ind) + arena_.capacity();
    for (const auto& v : v4_) b += v.capacity() * sizeof(v[0]);
    for (const auto& v : v6_) b += v.capacity() * sizeof(v[0]);
    b += domains_.memory_bytes() + urls_.memory_bytes() + hashes_.memory_bytes();
    for (const auto& c : ctxs_) b += sizeof(c) + c.json.capacity() + c.info.description.capacity();
    b += extra_ctx_.size() * 48;
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
    while (!d.empty()) {
        uint32_t r = domains_.find(*this, d);
        if (r != none) return r;
        auto dot = d.find('.');
        if (dot == std::string_view::npos) break;
        d.remove_prefix(dot + 1);
    }
    return none;
}

std::string store::value_text(uint32_t idx) const {
    const auto& i = inds_[idx];
    if (i.type != ind_type::ip) return std::string(text(i));
    ip::address a;
    std::copy_n(reinterpret_cast<const uint8_t*>(arena_.data() + i.val_off), 16, a.bytes.begin());
    a.v4 = i.v4;
    std::string s = ip::to_string(a);
    if (i.prefix != (i.v4 ? 32 : 128)) {
        s.push_back('/');
        s.append(std::to_string(i.prefix));
    }
    return s;
}

void store::render(uint32_t idx, std::string_view atomic, std::string_view field, std::string& out) const {
    const auto& i = inds_[idx];
    const auto& c = ctxs_[i.ctx];
    std::string value = value_text(idx);
    out.append("{\"indicator\":{\"type\":");
    json::append_string(out, ecs_type(i.type, i.v4));
    member(out, "name", value);
    switch (i.type) {
        case ind_type::ip:
            if (i.prefix == (i.v4 ? 32 : 128)) member(out, "ip", value);
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
            json::append_string(out, i.type == ind_type::md5 ? "md5" : i.type == ind_type::sha1 ? "sha1" : "sha256");
            out.push_back(':');
            json::append_string(out, value);
            out.append("}}");
            break;
    }
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
    if (i.first_seen) {
        out.append(",\"first_seen\":\"");
        time::append_rfc3339(out, int64_t(i.first_seen) * 1000);
        out.push_back('"');
    }
    if (i.last_seen) {
        out.append(",\"last_seen\":\"");
        time::append_rfc3339(out, int64_t(i.last_seen) * 1000);
        out.push_back('"');
    }
    std::string_view comment(arena_.data() + i.val_off + i.val_len, i.com_len);
    member(out, "description", comment.empty() ? std::string_view(c.info.description) : comment);
    out.append(c.json);
    out.append("},\"matched\":{\"atomic\":");
    json::append_string_lossy(out, atomic);
    out.append(",\"field\":");
    json::append_string(out, field);
    out.append(",\"type\":\"indicator_match_rule\"}}");
}

}  // namespace sds::enrich
