#include "sds/enrich/enrich.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <thread>
#include <fstream>
#include <sstream>

#include "sds/cli/input.hpp"
#include "sds/core/hash.hpp"
#include "sds/core/time.hpp"
#include "sds/enrich/md5.hpp"
#include "sds/enrich/remote.hpp"
#include "sds/json/path.hpp"
#include "sds/net/http.hpp"

namespace sds::enrich {

namespace {

const std::vector<std::string> default_ip_fields = {"source.ip", "destination.ip", "client.ip", "server.ip", "host.ip"};
const char* const domain_fields[] = {"dns.question.name", "url.domain", "destination.domain", "tls.client.server_name"};
const char* const url_fields[] = {"url.full", "url.original"};
const char* const hash_fields[] = {"file.hash.md5", "file.hash.sha1", "file.hash.sha256"};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t b = s.find_first_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b);
}

}  // namespace

void add_options(cli::tool& t, options& o) {
    auto& app = t.app();
    t.add_inputs(o.inputs);
    app.add_option("--geoip", o.geoip, "GeoIP City or Country database (MaxMind .mmdb, or the flat DB-IP/ip-location-db layout)")
        ->type_name("DB.mmdb");
    app.add_option("--asn", o.asn, "ASN database (.mmdb) for <field>.as.number and .as.organization.name")
        ->type_name("DB.mmdb");
    app.add_option("--ip-fields", o.ip_fields,
                   "IP fields to enrich (comma-separated or repeated; default source.ip,destination.ip,client.ip,server.ip,host.ip)")
        ->delimiter(',')
        ->type_name("FIELD");
    app.add_option("--intel", o.intel,
                   "threat intelligence: MISP feed folder or manifest, MISP event JSON, STIX 2.1 bundle, CSV or plain "
                   "list, file or http(s) URL (repeatable)")
        ->type_name("PATH|URL");
    app.add_option("--intel-column", o.intel_column, "CSV column holding the indicator (header name or 1-based number)")
        ->type_name("COL");
    app.add_option("--intel-max-age", o.intel_max_age,
                   "drop indicators last seen longer ago than this (e.g. 30d, 12h)")
        ->type_name("DURATION");
    app.add_flag("--include-non-ids", o.include_non_ids, "also load MISP attributes whose to_ids flag is off");
    app.add_option("--warninglists", o.warninglists,
                   "MISP warninglists folder (or one list.json): values they list are never matched (repeatable)")
        ->type_name("DIR");
    app.add_option("--misp-url", o.misp_url, "MISP server: pull attributes/restSearch at start-up")->type_name("URL");
    app.add_option("--misp-key-file", o.misp_key_file, "file holding the MISP automation key")->type_name("FILE");
    app.add_option("--misp-cacert", o.misp_cacert, "CA bundle (PEM) to verify the MISP server and feed URLs with")
        ->type_name("FILE");
    app.add_option("--intel-ttl", o.intel_ttl, "reuse MISP/URL intelligence cached on disk for this long")
        ->type_name("DURATION")
        ->capture_default_str();
    app.add_option("--intel-cache", o.intel_cache, "cache folder for MISP/URL intelligence (default ~/.cache/sds)")
        ->type_name("DIR");
}

expected<std::unique_ptr<context>> prepare(cli::tool& t, const options& o) {
    auto ctx = std::make_unique<context>();
    std::unique_ptr<mmdb_file> geo, asn;
    if (!o.geoip.empty()) {
        auto f = mmdb_file::open(o.geoip, mmdb_file::kind::geo);
        if (!f) return f.err();
        t.info(fmt::format("geoip: {} ({})", o.geoip, (*f)->database_type()));
        geo = std::move(*f);
    }
    if (!o.asn.empty()) {
        auto f = mmdb_file::open(o.asn, mmdb_file::kind::asn);
        if (!f) return f.err();
        t.info(fmt::format("asn: {} ({})", o.asn, (*f)->database_type()));
        asn = std::move(*f);
    }
    if (geo || asn) ctx->geo = std::make_unique<geo_enricher>(std::move(geo), std::move(asn), o.cache_size);

    for (const auto& w : o.warninglists) {
        if (auto s = ctx->wl.load(w); !s) return s.err();
    }
    for (const auto& s : ctx->wl.skipped) t.info(fmt::format("warninglist skipped: {}", s));

    load_options lo;
    lo.now_ms = time::now();
    lo.include_non_ids = o.include_non_ids;
    lo.csv_column = o.intel_column;
    lo.misp_url = o.misp_url;
    if (!o.intel_max_age.empty()) {
        auto d = time::parse_duration(o.intel_max_age);
        if (!d) return make_error(exit_code::usage, fmt::format("invalid --intel-max-age: {}", o.intel_max_age));
        lo.max_age_ms = *d;
    }
    remote_options ro;
    ro.cache_dir = o.intel_cache.empty() ? default_cache_dir() : o.intel_cache;
    ro.ca_file = o.misp_cacert;
    ro.now_ms = lo.now_ms;
    if (auto d = time::parse_duration(o.intel_ttl)) {
        ro.ttl_ms = *d;
    } else if (o.intel_ttl == "0") {
        ro.ttl_ms = 0;
    } else {
        return make_error(exit_code::usage, fmt::format("invalid --intel-ttl: {}", o.intel_ttl));
    }

    const warninglists* wl = ctx->wl.lists() ? &ctx->wl : nullptr;
    loader ld(ctx->intel, wl, lo);
    auto is_url = [](const std::string& src) { return src.rfind("http://", 0) == 0 || src.rfind("https://", 0) == 0; };
    // Local files and feed folders are read and parsed on threads, each into a store of its
    // own; those are then moved into the one store in command-line order, so the result (and
    // every counter) is what loading them one after the other gives.
    struct parsed {
        store s;
        load_stats stats;
        std::vector<std::string> warnings;
        status st;
        std::exception_ptr thrown;  // rethrown on the main thread, in order
    };
    std::vector<size_t> local;
    for (size_t k = 0; k < o.intel.size(); ++k)
        if (!is_url(o.intel[k])) local.push_back(k);
    std::vector<std::unique_ptr<parsed>> pre(o.intel.size());
    if (local.size() > 1) {
        for (size_t k : local) pre[k] = std::make_unique<parsed>();
        std::atomic<size_t> next{0};
        auto work = [&] {
            for (size_t n; (n = next.fetch_add(1)) < local.size();) {
                auto& p = *pre[local[n]];
                try {
                    loader one(p.s, wl, lo);
                    p.st = one.load_path(o.intel[local[n]]);
                    p.stats = one.stats();
                    p.warnings = std::move(one.warnings);
                } catch (...) {
                    p.thrown = std::current_exception();
                }
            }
        };
        size_t hw = std::max(2u, std::thread::hardware_concurrency());
        size_t n_threads = std::min<size_t>({local.size(), hw, 8});
        std::vector<std::thread> threads;
        for (size_t k = 1; k < n_threads; ++k) threads.emplace_back(work);
        work();
        for (auto& th : threads) th.join();
    }
    for (size_t k = 0; k < o.intel.size(); ++k) {
        const auto& src = o.intel[k];
        if (pre[k]) {
            auto& p = *pre[k];
            if (p.thrown) std::rethrow_exception(p.thrown);
            if (!p.st) return p.st.err();
            size_t dups = ctx->intel.absorb(std::move(p.s));
            p.stats.added -= dups;
            p.stats.duplicates += dups;
            ld.stats() += p.stats;
            for (auto& w : p.warnings) ld.warnings.push_back(std::move(w));
            pre[k].reset();
            continue;
        }
        if (is_url(src)) {
            auto f = fetch_url(src, ro);
            if (!f) return f.err();
            if (!f->warning.empty()) t.warn(f->warning);
            std::string name = net::redact_url(src);
            bool is_manifest = name.size() >= 14 && name.compare(name.size() - 14, 14, "/manifest.json") == 0;
            if (!is_manifest) {
                if (auto s = ld.load_text(f->body, name); !s) return s.err();
                continue;
            }
            // A MISP feed over HTTP: the manifest names the events, each <base>/<uuid>.json.
            simdjson::dom::parser mp;
            simdjson::padded_string mtext(f->body);
            simdjson::dom::object manifest;
            if (mp.parse(mtext).get(manifest))
                return make_error(exit_code::usage, fmt::format("cannot parse feed: {}:{} (invalid manifest)", name,
                                                                line_of(f->body, json_error_offset(f->body))));
            std::string base = src.substr(0, src.size() - 13);
            uint64_t listed = 0, missing = 0;
            std::vector<std::string> loaded;
            auto not_found = [](const error& e) { return e.message.find("(HTTP 404)") != std::string::npos; };
            for (auto [uuid, meta] : manifest) {
                (void)meta;
                ++listed;
                auto ev = fetch_url(base + std::string(uuid) + ".json", ro);
                if (!ev) {
                    if (not_found(ev.err())) {
                        ++missing;
                        continue;
                    }
                    return ev.err();
                }
                if (!ev->warning.empty()) t.warn(ev->warning);
                ++ld.stats().files;
                if (auto s = ld.load_text(ev->body, base + std::string(uuid) + ".json"); !s) return s.err();
                loaded.emplace_back(uuid);
                for (auto& ch : loaded.back())
                    if (ch >= 'A' && ch <= 'F') ch = char(ch - 'A' + 'a');
            }
            if (missing) {
                ld.stats().missing_events += missing;
                t.warn(fmt::format("{}: {} of {} events listed in manifest.json have no event file", name, missing, listed));
            }
            // <base>/hashes.csv, when the feed publishes one.
            auto hashes = fetch_url(base + "hashes.csv", ro);
            if (!hashes) {
                if (not_found(hashes.err())) continue;
                // hashes.csv is optional, and a feed served from S3 answers 403, not 404, for a key that
                // does not exist when the reader may not list the bucket: use the feed without it.
                if (hashes.err().message.find("(HTTP 403)") != std::string::npos) {
                    t.warn(fmt::format("{}: no readable hashes.csv (HTTP 403), feed used without it",
                                       net::redact_url(base)));
                    continue;
                }
                return hashes.err();
            }
            if (!hashes->warning.empty()) t.warn(hashes->warning);
            ++ld.stats().files;
            std::sort(loaded.begin(), loaded.end());
            std::string feed = base.substr(0, base.size() - 1);
            feed = feed.substr(feed.rfind('/') + 1);
            if (auto s = ld.load_feed_hashes(hashes->body, net::redact_url(base + "hashes.csv"), manifest, loaded, feed); !s)
                return s.err();
            continue;
        }
        if (auto s = ld.load_path(src); !s) return s.err();
    }
    if (!o.misp_url.empty()) {
        if (o.misp_key_file.empty()) return make_error(exit_code::usage, "--misp-url needs --misp-key-file");
        std::ifstream kf(o.misp_key_file);
        if (!kf)
            return make_error(exit_code::usage, fmt::format("cannot read MISP key: {} ({})", o.misp_key_file, std::strerror(errno)));
        std::ostringstream ks;
        ks << kf.rdbuf();
        misp_query q;
        q.url = o.misp_url;
        q.key = trim(ks.str());
        if (q.key.empty()) return make_error(exit_code::usage, fmt::format("empty MISP key: {}", o.misp_key_file));
        q.include_non_ids = o.include_non_ids;
        q.last = o.intel_max_age;
        auto f = fetch_misp(q, ro);
        if (!f) return f.err();
        if (!f->warning.empty()) t.warn(f->warning);
        t.info(fmt::format("misp: {} bytes{}", f->body.size(), f->from_cache ? " (cached)" : ""));
        if (auto s = ld.load_text(f->body, "misp restSearch"); !s) return s.err();
    }
    ctx->intel_stats = ld.stats();
    ctx->intel_stats.duplicates += ctx->intel.finalize();
    for (const auto& w : ld.warnings) t.warn(w);
    if (!o.intel.empty() || !o.misp_url.empty()) {
        const auto& s = ctx->intel_stats;
        t.info(fmt::format("intel: {} indicators ({} entries, {} duplicates, {} bad, {} expired, {} warninglisted, "
                           "{} non-ids, {} other types)",
                           ctx->intel.size(), s.entries, s.duplicates, s.bad, s.expired, s.warninglisted, s.non_ids,
                           s.other_types));
        if (s.hashes_loaded)
            t.info(fmt::format("intel: {} value hashes of events not loaded (hashes.csv: {} lines, {} of loaded "
                               "events or repeated, {} expired)",
                               s.hashes_used, s.hashes_loaded, s.hashes_redundant, s.hashes_expired));
        if (s.bad) t.warn(fmt::format("intel: {} entries could not be understood and were skipped", s.bad));
    }
    return ctx;
}

record_enricher::record_enricher(context& c, const options& o) : c_(c), ip_cache_(16384) {
    value_hashes_ = c_.intel.has_value_hashes();
    if (value_hashes_) {
        vh_cache_.resize(4096);
        value_cache_.resize(4096);
    }
    ip_fields_ = o.ip_fields.empty() ? default_ip_fields : o.ip_fields;
    for (const auto& f : ip_fields_) {
        auto dot = f.rfind('.');
        geo_prefix_.push_back(dot == std::string::npos ? f + "_geo" : f.substr(0, dot));
        ip_ids_.push_back(fields_.add(f));
    }
    related_id_ = fields_.add("related.ip");
    for (const char* f : domain_fields) domain_ids_.push_back(fields_.add(f));
    for (const char* f : url_fields) url_ids_.push_back(fields_.add(f));
    for (const char* f : hash_fields) hash_ids_.push_back(fields_.add(f));
}

void record_enricher::add_match(uint32_t idx, std::string_view atomic, std::string_view field) {
    if (std::find(seen_.begin(), seen_.end(), idx) != seen_.end()) return;
    seen_.push_back(idx);
    scratch_.clear();
    c_.intel.render(idx, atomic, field, scratch_);
    patch_.append_raw("threat.enrichments", scratch_);
}

void record_enricher::match_value_hash(std::string_view value, ind_type type, bool v4, std::string_view atomic,
                                       std::string_view field) {
    // URLs rarely repeat (their paths differ): hashed each time.
    if (type == ind_type::url) {
        emit_value_hash(c_.intel.match_value_hash(md5(value)), value, type, v4, atomic, field);
        return;
    }
    // Names and file hashes repeat: recent answers are kept by value (the slot's string keeps
    // its capacity, so a warm cache does not allocate).
    auto& slot = value_cache_[std::hash<std::string_view>{}(value) & (value_cache_.size() - 1)];
    if (!slot.used || slot.value != value) {
        slot.used = true;
        slot.value.assign(value);
        slot.range = c_.intel.match_value_hash(md5(value));
    }
    emit_value_hash(slot.range, value, type, v4, atomic, field);
}

void record_enricher::emit_value_hash(std::pair<uint32_t, uint32_t> range, std::string_view value, ind_type type,
                                      bool v4, std::string_view atomic, std::string_view field) {
    auto [first, last] = range;
    if (first == last) return;
    // Warninglists keep their values from matching, whichever way the feed published them.
    if (c_.wl.lists()) {
        auto cl = classify(value);
        if (cl && c_.wl.covers(*cl)) return;
    }
    for (uint32_t k = first; k < last; ++k) {
        if (std::find(seen_vh_.begin(), seen_vh_.end(), k) != seen_vh_.end()) continue;
        seen_vh_.push_back(k);
        scratch_.clear();
        c_.intel.render_value_hash(k, type, v4, value, atomic, field, scratch_);
        patch_.append_raw("threat.enrichments", scratch_);
    }
}

std::optional<ip::address> record_enricher::address_of(std::string_view v) {
    // A record names the same address in several fields (source.ip and related.ip...): the
    // few parsed in this record are remembered.
    for (size_t k = 0; k < parsed_used_; ++k)
        if (parsed_[k].text == v) return parsed_[k].addr;
    auto a = parse_address(v);
    if (parsed_used_ < parsed_.size()) parsed_[parsed_used_++] = {v, a};
    return a;
}

void record_enricher::match_ip_value(std::string_view v, std::string_view field) {
    auto a = address_of(v);
    if (!a) return;
    auto& slot = ip_cache_[address_hash(*a) & (ip_cache_.size() - 1)];
    if (!slot.used || !(slot.addr == *a)) {
        slot.used = true;
        slot.addr = *a;
        slot.idx = c_.intel.match_ip(*a);
    }
    if (slot.idx != store::none) add_match(slot.idx, v, field);
}

template <class F>
void record_enricher::for_each_ip_value(F&& f) {
    auto scan = [&](size_t id, std::string_view field) {
        auto e = fields_.get(id);
        if (!e) return;
        std::string_view v;
        if (!e->get(v)) {
            f(v, field);
        } else if (e->is_array()) {
            for (auto x : e->get_array())
                if (!x.get(v)) f(v, field);
        }
    };
    for (size_t i = 0; i < ip_fields_.size(); ++i) scan(ip_ids_[i], ip_fields_[i]);
    scan(related_id_, "related.ip");
}

std::optional<std::string_view> record_enricher::string_at(size_t id) {
    auto e = fields_.get(id);
    std::string_view v;
    if (!e || e->get(v)) return std::nullopt;
    return v;
}

size_t record_enricher::enrich(std::string_view text, simdjson::dom::element doc, std::string& out) {
    patch_.clear();
    seen_.clear();
    seen_vh_.clear();
    parsed_used_ = 0;
    fields_.scan(doc);
    if (c_.geo) {
        for (size_t i = 0; i < ip_fields_.size(); ++i) {
            auto e = fields_.get(ip_ids_[i]);
            if (!e) continue;
            std::string_view v;
            std::optional<ip::address> addr;
            if (!e->get(v)) {
                addr = address_of(v);
                if (addr && ip::is_private_or_reserved(*addr)) addr.reset();
            } else if (e->is_array()) {
                for (auto x : e->get_array()) {
                    if (x.get(v)) continue;
                    auto a = address_of(v);
                    if (a && !ip::is_private_or_reserved(*a)) {
                        addr = a;
                        break;
                    }
                }
            }
            if (!addr) continue;
            auto r = c_.geo->lookup(*addr);
            if (!r.geo.empty()) {
                geo_path_ = geo_prefix_[i];
                geo_path_.append(".geo");
                patch_.set_raw(geo_path_, r.geo);
            }
            if (!r.as.empty()) {
                geo_path_ = geo_prefix_[i];
                geo_path_.append(".as");
                patch_.set_raw(geo_path_, r.as);
            }
        }
    }
    if (c_.intel.size() || value_hashes_) {
        for_each_ip_value([&](std::string_view v, std::string_view field) { match_ip_value(v, field); });
        for (size_t k = 0; k < std::size(domain_fields); ++k) {
            const char* f = domain_fields[k];
            auto v = string_at(domain_ids_[k]);
            if (!v || !normalize_domain(*v, norm_)) continue;
            uint32_t idx = c_.intel.match_domain(norm_);
            if (idx != store::none) add_match(idx, *v, f);
        }
        for (size_t k = 0; k < std::size(url_fields); ++k) {
            const char* f = url_fields[k];
            auto v = string_at(url_ids_[k]);
            if (!v || !normalize_url(*v, norm_)) continue;
            uint32_t idx = c_.intel.match_url(norm_);
            if (idx != store::none) add_match(idx, *v, f);
        }
        for (size_t k = 0; k < std::size(hash_fields); ++k) {
            const char* f = hash_fields[k];
            auto v = string_at(hash_ids_[k]);
            ind_type ty;
            if (!v || !normalize_hash(*v, norm_, ty)) continue;
            uint32_t idx = c_.intel.match_hash(norm_);
            if (idx != store::none) add_match(idx, *v, f);
        }
        if (value_hashes_) match_value_hashes();
    }
    size_t n = seen_.size() + seen_vh_.size();
    matches_ += n;
    if (n) ++records_matched_;
    if (patch_.empty())
        out.append(text);
    else
        patch_.apply(text, out);
    return n;
}

// Canonical text of an address (IPv4 formatted here, the common case, without allocating).
std::string_view record_enricher::address_text(const ip::address& a) {
    if (!a.v4) {
        ip_text_ = ip::to_string(a);
        return ip_text_;
    }
    char* p = ip_buf_;
    for (int i = 12; i < 16; ++i) {
        unsigned x = a.bytes[size_t(i)];
        if (x >= 100) *p++ = char('0' + x / 100);
        if (x >= 10) *p++ = char('0' + x / 10 % 10);
        *p++ = char('0' + x % 10);
        if (i < 15) *p++ = '.';
    }
    return {ip_buf_, size_t(p - ip_buf_)};
}

// The record's candidate values in the form MISP stores (and hashes) them: addresses in their
// canonical text, domains and hashes in lower case, URLs as written and without their scheme
// (as MISP also looks them up).
void record_enricher::match_value_hashes() {
    // Addresses repeat in real logs: their answers are remembered, as for the indicator store.
    auto ip_value = [&](std::string_view v, std::string_view field) {
        auto a = address_of(v);
        if (!a) return;
        auto& slot = vh_cache_[address_hash(*a) & (vh_cache_.size() - 1)];
        if (!slot.used || !(slot.addr == *a)) {
            slot.used = true;
            slot.addr = *a;
            slot.range = c_.intel.match_value_hash(md5(address_text(*a)));
        }
        if (slot.range.first != slot.range.second)
            emit_value_hash(slot.range, address_text(*a), ind_type::ip, a->v4, v, field);
    };
    for_each_ip_value(ip_value);
    for (size_t k = 0; k < std::size(domain_fields); ++k) {
        auto v = string_at(domain_ids_[k]);
        if (v && normalize_domain(*v, norm_)) match_value_hash(norm_, ind_type::domain, false, *v, domain_fields[k]);
    }
    for (size_t k = 0; k < std::size(url_fields); ++k) {
        auto v = string_at(url_ids_[k]);
        if (!v || v->empty()) continue;
        match_value_hash(*v, ind_type::url, false, *v, url_fields[k]);
        auto scheme = v->find("://");
        if (scheme != std::string_view::npos && scheme + 3 < v->size())
            match_value_hash(v->substr(scheme + 3), ind_type::url, false, *v, url_fields[k]);
    }
    for (size_t k = 0; k < std::size(hash_fields); ++k) {
        auto v = string_at(hash_ids_[k]);
        ind_type ty;
        if (v && normalize_hash(*v, norm_, ty)) match_value_hash(norm_, ty, false, *v, hash_fields[k]);
    }
}

namespace {

// Bytes the allocator has handed out and not had back (glibc), to measure what loading keeps.
size_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}

}  // namespace

exit_code run(cli::tool& t, const options& o) {
    size_t heap_before = heap_in_use();
    auto prepared = prepare(t, o);
    size_t heap_after = heap_in_use();
    if (!prepared) {
        t.error(prepared.err().message);
        return prepared.err().code;
    }
    auto& ctx = **prepared;
    if (!ctx.geo && ctx.intel.size() == 0 && o.intel.empty() && o.misp_url.empty())
        t.warn("nothing to do: no --geoip, --asn, --intel or --misp-url given; records pass unchanged");
    record_enricher re(ctx, o);
    auto result = cli::read_records(t, o.inputs, [&](const io::record& r) -> status {
        auto& buf = t.out().buffer();
        re.enrich(r.text, r.doc, buf);
        buf.push_back('\n');
        t.out().commit();
        ++t.count().out;
        return {};
    });
    const auto& s = ctx.intel_stats;
    t.add_stat("indicators", std::to_string(ctx.intel.size()));
    t.add_stat("intel_store_bytes", std::to_string(ctx.intel.memory_bytes()));
    // Cross-check of the figure above: the heap still held once everything was loaded
    // (databases' caches and warninglists included; 0 where the allocator cannot tell).
    t.add_stat("loaded_heap_bytes", std::to_string(heap_after > heap_before ? heap_after - heap_before : 0));
    t.add_stat("intel_bad_entries", std::to_string(s.bad));
    t.add_stat("intel_expired", std::to_string(s.expired));
    t.add_stat("intel_warninglisted", std::to_string(s.warninglisted));
    t.add_stat("intel_duplicates", std::to_string(s.duplicates));
    t.add_stat("intel_non_ids", std::to_string(s.non_ids));
    t.add_stat("intel_missing_events", std::to_string(s.missing_events));
    t.add_stat("intel_hashes_loaded", std::to_string(s.hashes_loaded));
    t.add_stat("intel_hashes_used", std::to_string(s.hashes_used));
    t.add_stat("intel_hashes_redundant", std::to_string(s.hashes_redundant));
    t.add_stat("intel_hashes_expired", std::to_string(s.hashes_expired));
    t.add_stat("matches", std::to_string(re.matches()));
    t.add_stat("records_matched", std::to_string(re.records_matched()));
    if (ctx.geo) {
        t.add_stat("geo_lookups", std::to_string(ctx.geo->lookups()));
        t.add_stat("geo_cache_hits", std::to_string(ctx.geo->cache_hits()));
    }
    return result;
}

}  // namespace sds::enrich
