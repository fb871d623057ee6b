// sds-score eval: the driver (see eval.hpp for what is measured).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sds/cli/input.hpp"
#include "sds/score/eval.hpp"
#include "sds/score/score.hpp"

namespace sds::score {

namespace {

__extension__ typedef unsigned __int128 u128;

struct rng {
    uint64_t s;
    uint64_t next() noexcept {
        s += 0x9e3779b97f4a7c15ULL;
        return mix64(s);
    }
    uint64_t below(uint64_t n) noexcept { return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64); }
};

ip::address v4(uint32_t x) {
    ip::address a;
    a.v4 = true;
    a.bytes[10] = a.bytes[11] = 0xff;
    a.bytes[12] = uint8_t(x >> 24), a.bytes[13] = uint8_t(x >> 16), a.bytes[14] = uint8_t(x >> 8), a.bytes[15] = uint8_t(x);
    return a;
}

const network_row* lookup(const std::vector<network_row>& rows, uint32_t x) {
    auto it = std::upper_bound(rows.begin(), rows.end(), x, [](uint32_t v, const network_row& r) { return v < r.start; });
    if (it == rows.begin()) return nullptr;
    --it;
    return x <= it->end ? &*it : nullptr;
}

struct stored_pair {
    uint64_t entity_key;
    ip::address addr;
    std::optional<uint32_t> asn;
    std::optional<uint16_t> country;
};

void append_metrics(std::string& s, const metrics& m) {
    s += fmt::format("\"auc\":{},\"tpr_at_1pct_fpr\":{},\"tpr_at_0.1pct_fpr\":{}", number(m.auc), number(m.tpr_1),
                     number(m.tpr_01));
}

}  // namespace

exit_code run_eval(cli::tool& t, options& o) {
    auto mr = model::open(o.eval_model);
    if (!mr) {
        t.error(mr.err().message);
        return mr.err().code;
    }
    const model& m = *mr;
    fields f = resolve_fields(o, &m);
    std::vector<network_row> table;
    bool have_table = false;
    if (!o.networks.empty()) {
        auto nr = load_networks(o.networks);
        if (!nr) {
            t.error(nr.err().message);
            return nr.err().code;
        }
        table = std::move(nr.value());
        have_table = true;
    }
    std::vector<stored_pair> pairs;
    std::string scratch;
    pair p;
    const extractor fx(f);
    exit_code result = cli::read_records(t, o.eval_inputs, [&](const io::record& r) -> status {
        switch (fx.extract(r.doc, p, scratch)) {
            case extract_result::ok:
                pairs.push_back({p.entity_key, p.addr, p.asn, p.country});
                ++t.count().out;
                break;
            case extract_result::malformed_address:
                t.reject(fmt::format("malformed address in {}", f.ip), r.source, r.line, r.text);
                break;
            default: ++t.count().filtered; break;
        }
        return {};
    });
    if (result == exit_code::runtime || result == exit_code::interrupted) return result;
    if (pairs.empty()) {
        t.error("no usable (entity, address) pairs to evaluate");
        return worst(result, exit_code::usage);
    }
    // Without a table, the input's own IPv4 addresses are the networks.
    if (!have_table) {
        for (const auto& sp : pairs) {
            if (!sp.addr.v4) continue;
            uint32_t x = sp.addr.v4_value();
            table.push_back({x, x, sp.asn.value_or(0), sp.country.value_or(0)});
        }
        std::sort(table.begin(), table.end(), [](const network_row& a, const network_row& b) { return a.start < b.start; });
        table.erase(std::unique(table.begin(), table.end(), [](const network_row& a, const network_row& b) { return a.start == b.start; }),
                    table.end());
    }
    if (table.empty()) {
        t.error("no IPv4 networks to draw generated addresses from (give --networks)");
        return worst(result, exit_code::usage);
    }
    std::map<uint16_t, std::vector<uint32_t>> by_country;
    for (uint32_t i = 0; i < table.size(); ++i)
        if (table[i].country) by_country[table[i].country].push_back(i);

    scorer sc(&m, nullptr);
    rng r{mix64(o.eval_seed * 0x2545f4914f6cdd1dULL + 17)};
    enum { k_random = 0, k_same_country = 1, k_uniform = 2, kinds = 3 };
    std::vector<double> normal, normal_base;
    std::vector<double> anom[kinds], anom_base[kinds];
    auto score_pair = [&](const pair& q, std::vector<double>& s, std::vector<double>& b) {
        s.push_back(sc.score(q).score);
        b.push_back(sc.baseline_prefix16(q));
    };
    size_t unseen = 0;
    for (const auto& sp : pairs) {
        pair q;
        q.entity_key = sp.entity_key;
        q.addr = sp.addr;
        q.asn = sp.asn;
        q.country = sp.country;
        const network_row* own = sp.addr.v4 ? lookup(table, sp.addr.v4_value()) : nullptr;
        if (have_table && own) {
            if (!q.asn && own->asn) q.asn = own->asn;
            if (!q.country && own->country) q.country = own->country;
        }
        bool with_asn = q.asn.has_value(), with_cc = q.country.has_value();
        if (!m.seen(seen_key(q.entity_key, seen_kind::entity, 1))) ++unseen;
        score_pair(q, normal, normal_base);
        auto from_row = [&](const network_row& row) {
            pair n;
            n.entity_key = q.entity_key;
            n.addr = v4(row.start + static_cast<uint32_t>(r.below(uint64_t(row.end) - row.start + 1)));
            if (with_asn && row.asn) n.asn = row.asn;
            if (with_cc && row.country) n.country = row.country;
            return n;
        };
        score_pair(from_row(table[r.below(table.size())]), anom[k_random], anom_base[k_random]);
        if (q.country) {
            auto it = by_country.find(*q.country);
            if (it != by_country.end()) {
                for (int tries = 0; tries < 32; ++tries) {
                    const network_row& row = table[it->second[r.below(it->second.size())]];
                    if (q.asn && row.asn == *q.asn) continue;
                    score_pair(from_row(row), anom[k_same_country], anom_base[k_same_country]);
                    break;
                }
            }
        }
        pair u;
        u.entity_key = q.entity_key;
        uint32_t x = static_cast<uint32_t>(r.next());
        u.addr = v4(x);
        if (const network_row* row = lookup(table, x); row && have_table) {
            if (with_asn && row->asn) u.asn = row->asn;
            if (with_cc && row->country) u.country = row->country;
        } else if (have_table) {
            // Not in any network: as sds-enrich would leave it, no ASN and no country; judged as
            // an unknown ASN and country (a sentinel nobody has), not as "nothing to compare".
            if (with_asn) u.asn = 0xffffffffu;
            if (with_cc) u.country = pack_country("ZZ");
        }
        score_pair(u, anom[k_uniform], anom_base[k_uniform]);
    }
    static constexpr const char* names[kinds] = {"random_network", "same_country_other_asn", "uniform_ipv4"};
    std::string s = fmt::format("{{\"model\":\"{}\",\"pairs\":{},\"unseen_entities\":{},\"networks\":{},\"negatives\":{{",
                                m.id(), pairs.size(), unseen, table.size());
    for (int k = 0; k < kinds; ++k) {
        if (k) s += ',';
        metrics mm = measure(normal, anom[k]);
        metrics bb = measure(normal_base, anom_base[k]);
        s += fmt::format("\"{}\":{{\"n\":{},", names[k], anom[k].size());
        append_metrics(s, mm);
        s += ",\"baseline_prefix16\":{";
        append_metrics(s, bb);
        s += "}}";
    }
    s += "}}\n";
    t.out().write(s);
    return result;
}

}  // namespace sds::score
