#include "sds/scan/scan.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "sds/core/signals.hpp"
#include "sds/json/builder.hpp"
#include "sds/scan/ports.hpp"
#include "sds/scan/record.hpp"
#include "sds/scan/targets.hpp"
#include "sds/scan/tls.hpp"

namespace sds::scan {

expected<int> parse_duration_ms(std::string_view text) {
    double v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr == text.data() || v < 0)
        return make_error(exit_code::usage, fmt::format("invalid duration: {}", text));
    std::string_view unit(r.ptr, static_cast<size_t>(text.data() + text.size() - r.ptr));
    double mul = 0;
    if (unit.empty() || unit == "s") mul = 1000;
    else if (unit == "ms") mul = 1;
    else if (unit == "m") mul = 60000;
    else if (unit == "h") mul = 3600000;
    else return make_error(exit_code::usage, fmt::format("invalid duration unit: {}", text));
    double ms = v * mul;
    if (ms > 86400000.0) return make_error(exit_code::usage, fmt::format("duration too long: {}", text));
    return static_cast<int>(std::lround(ms));
}

void add_options(cli::tool& t, options& o) {
    auto& app = t.app();
    app.add_option("TARGET", o.targets,
                   "IPv4/IPv6 addresses, CIDR networks or host names; none or -: read targets from stdin")
        ->type_name("TARGET");
    app.add_option("-i,--input", o.inputs,
                   "read targets from FILE (plain lines or NDJSON records; gzip/zstd decoded); repeatable")
        ->type_name("FILE");
    app.add_option("--target-field", o.target_fields,
                   "NDJSON field naming the target (repeatable; default: destination.ip, host.ip, server.ip, "
                   "source.ip, destination.domain, host.name, host.hostname, server.domain, url.domain, target)")
        ->type_name("PATH");
    app.add_option("-p,--ports", o.ports, "ports: lists and ranges (22,80,8000-8100), top100, top1000, - (all)")
        ->type_name("PORTS")
        ->capture_default_str();
    app.add_option("--max-targets", o.max_targets, "refuse to scan more addresses than this (CIDRs count whole)")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--concurrency", o.tcp.concurrency, "connection attempts in flight at once")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--threads", o.tcp.threads,
                   "event loops sharing the scan, each with its own epoll instance (0: one per online core); "
                   "--concurrency and --rate stay totals")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(0u, 256u));
    app.add_option("--rate", o.tcp.rate, "new connection attempts per second (0: as fast as --concurrency allows)")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--timeout", o.timeout, "time a connection attempt may take (e.g. 500ms, 2s)")
        ->type_name("DURATION")
        ->capture_default_str();
    app.add_option("--retries", o.tcp.retries, "extra attempts for a port that did not answer")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(0, 10));
    app.add_option("--banner-timeout", o.banner_timeout, "time to wait for a service's first bytes (0: no banner grab)")
        ->type_name("DURATION")
        ->capture_default_str();
    app.add_flag("--tls", o.tls, "inspect TLS on every open port (default: only on ports that usually speak TLS)");
    app.add_flag("--no-tls", o.no_tls, "never inspect TLS")->excludes("--tls");
    app.add_option("--cacert", o.cacert, "verify certificate chains against this PEM bundle or hashed folder "
                                         "instead of the system store")
        ->type_name("FILE");
    app.add_option("--warn-days", o.warn_days, "report certificates expiring within this many days")
        ->type_name("DAYS")
        ->capture_default_str()
        ->check(CLI::Range(0, 3650));
    app.add_option("--tls-jobs", o.tls_jobs, "TLS endpoints inspected at once")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1u, 256u));
    app.add_option("--tls-timeout", o.tls_timeout, "time a TLS connection or handshake step may take")
        ->type_name("DURATION")
        ->capture_default_str();
    app.add_flag("--all", o.all, "also write records for closed and filtered ports");
    app.add_option("--resolve-jobs", o.resolve_jobs, "host names resolved at once")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1u, 256u));
}

namespace {

struct host {
    ip::address addr;
    std::string domain;
    int32_t port = -1;  // pinned port (-1: the --ports list)
};

struct pending_name {
    std::string name, domain, source, record;
    uint64_t line = 0;
    int32_t port = -1;
};

std::string host_key(const ip::address& a, int32_t port) {
    std::string k(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
    k.append(reinterpret_cast<const char*>(&port), sizeof port);
    return k;
}

class host_set {
public:
    host_set(cli::tool& t, uint64_t max) : t_(t), max_(max) {}

    // Adds an address unless seen; counts the over-the-cap case as a reject.
    bool add(const ip::address& a, std::string_view domain, int32_t port) {
        auto key = host_key(a, port);
        if (seen_.count(key)) {
            if (!domain.empty()) {
                auto it = index_.find(key);
                if (it != index_.end() && hosts_[it->second].domain.empty()) hosts_[it->second].domain = domain;
            }
            return true;
        }
        if (hosts_.size() >= max_) return false;
        seen_.insert(key);
        index_[key] = hosts_.size();
        hosts_.push_back({a, std::string(domain), port});
        return true;
    }
    uint64_t room() const { return max_ - std::min<uint64_t>(max_, hosts_.size()); }
    std::vector<host>& hosts() { return hosts_; }

private:
    cli::tool& t_;
    uint64_t max_;
    std::unordered_set<std::string> seen_;
    std::unordered_map<std::string, size_t> index_;
    std::vector<host> hosts_;
};

}  // namespace

exit_code run(cli::tool& t, options& o) {
    auto ports = parse_ports(o.ports);
    if (!ports) {
        t.error(fmt::format("--ports: {}", ports.err().message));
        return exit_code::usage;
    }
    auto timeout = parse_duration_ms(o.timeout);
    auto banner_timeout = parse_duration_ms(o.banner_timeout);
    if (!timeout || !banner_timeout || *timeout <= 0) {
        t.error(!timeout ? fmt::format("--timeout: {}", timeout.err().message)
                : !banner_timeout ? fmt::format("--banner-timeout: {}", banner_timeout.err().message)
                                  : "--timeout: must be more than 0");
        return exit_code::usage;
    }
    auto tls_timeout = parse_duration_ms(o.tls_timeout);
    if (!tls_timeout || *tls_timeout <= 0) {
        t.error(fmt::format("--tls-timeout: {}", tls_timeout ? "must be more than 0" : tls_timeout.err().message));
        return exit_code::usage;
    }
    std::unique_ptr<tls_inspector> inspector;
    if (!o.no_tls) {
        tls_options to;
        to.timeout_ms = *tls_timeout;
        to.cacert = o.cacert;
        auto made = tls_inspector::create(to);
        if (!made) {
            t.error(made.err().message);
            return made.err().code;
        }
        inspector = std::move(*made);
    }
    o.tcp.timeout_ms = *timeout;
    o.tcp.banner_timeout_ms = *banner_timeout;
    const auto& fields = o.target_fields.empty() ? default_target_fields() : o.target_fields;

    // 1. Targets: addresses and networks now, names after a concurrent resolution.
    host_set hs(t, o.max_targets);
    std::vector<pending_name> names;
    auto reject_item = [&](std::string_view reason, const input_item& it) {
        ++t.count().in;
        t.reject(reason, it.source, it.line, it.record);
    };
    auto on_item = [&](const input_item& it) {
        auto tg = parse_target(it.text);
        if (!tg) return reject_item(tg.err().message, it);
        int32_t port = it.port ? *it.port : -1;
        switch (tg->kind) {
            case target_kind::address:
                if (!hs.add(tg->addr, it.domain, port))
                    reject_item(fmt::format("over --max-targets ({} addresses)", o.max_targets), it);
                break;
            case target_kind::network: {
                if (tg->size > hs.room())
                    return reject_item(fmt::format("{} expands to {} addresses, over --max-targets ({})", it.text,
                                                   tg->size == UINT64_MAX ? std::string("2^64+") : std::to_string(tg->size),
                                                   o.max_targets),
                                       it);
                for (uint64_t i = 0; i < tg->size; ++i) hs.add(network_address(tg->net, i), it.domain, port);
                break;
            }
            case target_kind::name:
                names.push_back({tg->name, it.domain.empty() ? tg->name : std::string(it.domain), std::string(it.source),
                                 std::string(it.record), it.line, port});
                break;
        }
    };
    exit_code result = exit_code::ok;
    std::vector<std::string> files = o.inputs;
    std::vector<std::string> from_args;
    for (const auto& a : o.targets) {
        if (a == "-") files.push_back("-");
        else from_args.push_back(a);
    }
    if (o.targets.empty() && o.inputs.empty()) files.push_back("-");
    uint64_t argn = 0;
    for (const auto& a : from_args) {
        input_item it;
        it.text = a;
        it.source = "argument";
        it.line = ++argn;
        it.record = a;
        on_item(it);
    }
    if (!files.empty()) {
        std::function<void(const input_item&)> fn = on_item;
        result = worst(result, read_targets(t, files, fields, fn));
    }
    if (!names.empty()) {
        std::vector<std::string> list;
        list.reserve(names.size());
        for (auto& n : names) list.push_back(n.name);
        auto resolved = resolve_all(list, o.resolve_jobs);
        for (size_t i = 0; i < names.size(); ++i) {
            const auto& n = names[i];
            auto reject_name = [&](std::string_view reason) {
                ++t.count().in;
                t.reject(reason, n.source, n.line, n.record);
            };
            if (!resolved[i]) {
                reject_name(resolved[i].err().message);
                continue;
            }
            if (resolved[i]->size() > hs.room()) {
                reject_name(fmt::format("{} resolves to more addresses than --max-targets leaves ({})", n.name, hs.room()));
                continue;
            }
            for (const auto& a : *resolved[i]) hs.add(a, n.domain, n.port);
        }
    }
    if (interrupted()) return exit_code::interrupted;

    // 2. Probes: every unpinned host for each port (port-major, so no host is hit in a burst),
    // then the pinned (host, port) pairs.
    auto& hosts = hs.hosts();
    std::vector<uint32_t> free_hosts, pinned;
    for (uint32_t i = 0; i < hosts.size(); ++i) (hosts[i].port < 0 ? free_hosts : pinned).push_back(i);
    t.count().in += free_hosts.size() * ports->size() + pinned.size();
    size_t pi = 0, hi = 0, pin_i = 0;
    std::function<bool(probe&)> next = [&](probe& p) {
        if (pi < ports->size() && !free_hosts.empty()) {
            const host& h = hosts[free_hosts[hi]];
            p.addr = h.addr;
            p.port = (*ports)[pi];
            p.tag = free_hosts[hi];
            if (++hi == free_hosts.size()) {
                hi = 0;
                ++pi;
            }
            return true;
        }
        if (pin_i < pinned.size()) {
            const host& h = hosts[pinned[pin_i]];
            p.addr = h.addr;
            p.port = static_cast<uint16_t>(h.port);
            p.tag = pinned[pin_i++];
            return true;
        }
        return false;
    };

    // 3. Scan. Open ports that are to be TLS-inspected wait for step 4.
    uint64_t n_open = 0, n_closed = 0, n_filtered = 0;
    json::doc_builder doc;
    std::vector<probe_result> tls_queue;
    auto emit = [&](const probe_result& r, const tls_report* tr) {
        auto now = time::now();
        build_port_record(doc, r, hosts[r.p.tag].domain, now);
        if (tr) add_tls_fields(doc, *tr, tls_findings(*tr, now, o.warn_days), now);
        std::string& buf = t.out().buffer();
        doc.serialize(buf);
        buf += '\n';
        t.out().commit();
        ++t.count().out;
    };
    std::function<void(probe_result&&)> done = [&](probe_result&& r) {
        switch (r.state) {
            case port_state::open: ++n_open; break;
            case port_state::closed: ++n_closed; break;
            case port_state::filtered: ++n_filtered; break;
        }
        t.tick();
        if (r.state != port_state::open && !o.all) {
            ++t.count().filtered;
            return;
        }
        if (r.state == port_state::open && inspector && (o.tls || is_tls_port(r.p.port))) {
            tls_queue.push_back(std::move(r));
            return;
        }
        emit(r, nullptr);
    };
    auto s = connect_scan(o.tcp, next, done);
    t.add_stat("addresses", std::to_string(hosts.size()));
    t.add_stat("ports_open", std::to_string(n_open));
    t.add_stat("ports_closed", std::to_string(n_closed));
    t.add_stat("ports_filtered", std::to_string(n_filtered));
    if (!s) {
        t.error(s.err().message);
        return worst(result, s.err().code);
    }

    // 4. TLS: handshakes on a pool of threads; records are written here, in completion order.
    uint64_t n_tls = 0;
    if (!tls_queue.empty() && !interrupted()) {
        std::mutex m;
        std::condition_variable cv;
        std::deque<std::pair<size_t, tls_report>> ready;
        std::atomic<size_t> next_job{0};
        std::atomic<bool> stop{false};
        auto worker = [&] {
            for (;;) {
                size_t i = next_job.fetch_add(1);
                if (i >= tls_queue.size() || stop || interrupted()) break;
                const probe_result& r = tls_queue[i];
                const host& h = hosts[r.p.tag];
                tls_report rep = inspector->inspect(r.p.addr, r.p.port, h.domain);
                std::lock_guard<std::mutex> g(m);
                ready.emplace_back(i, std::move(rep));
                cv.notify_one();
            }
            std::lock_guard<std::mutex> g(m);
            cv.notify_one();
        };
        unsigned jobs = std::min<unsigned>(o.tls_jobs, static_cast<unsigned>(tls_queue.size()));
        std::vector<std::thread> pool;
        for (unsigned k = 0; k < jobs; ++k) pool.emplace_back(worker);
        struct joiner {
            std::vector<std::thread>& p;
            std::atomic<bool>& stop;
            ~joiner() {
                stop = true;
                for (auto& th : p) th.join();
            }
        } join_at_exit{pool, stop};
        for (size_t written = 0; written < tls_queue.size();) {
            std::unique_lock<std::mutex> lk(m);
            cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return !ready.empty(); });
            if (ready.empty()) {
                if (interrupted()) break;
                continue;
            }
            auto item = std::move(ready.front());
            ready.pop_front();
            lk.unlock();
            emit(tls_queue[item.first], &item.second);
            if (item.second.established) ++n_tls;
            ++written;
        }
    }
    t.add_stat("tls_endpoints", std::to_string(n_tls));
    if (interrupted()) return exit_code::interrupted;
    return result;
}

}  // namespace sds::scan
