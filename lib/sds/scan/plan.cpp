#include "sds/scan/plan.hpp"

#include <fmt/format.h>

#include <random>

#include "sds/json/builder.hpp"
#include "sds/json/patch.hpp"
#include "sds/scan/targets.hpp"

namespace sds::scan {

planner::planner(time::millis start, time::millis window, time::millis bucket, uint64_t seed)
    : start_(start), bucket_(bucket), n_(static_cast<uint64_t>(window / bucket)), state_(seed) {
    if (n_ == 0) n_ = 1;
    order_.resize(n_);
    pos_ = n_;  // shuffle on first use
}

uint64_t planner::rand() {  // splitmix64: fixed forever, so a seed always gives the same plan
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t planner::below(uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = rand();
    while (r >= limit);
    return r % n;
}

planner::slot planner::next() {
    if (pos_ == n_) {
        for (uint64_t i = 0; i < n_; ++i) order_[i] = i;
        for (uint64_t i = n_ - 1; i > 0; --i) std::swap(order_[i], order_[below(i + 1)]);
        pos_ = 0;
    }
    uint64_t b = order_[pos_++];
    time::millis at = start_ + static_cast<time::millis>(b) * bucket_ + static_cast<time::millis>(below(static_cast<uint64_t>(bucket_)));
    return {b, at};
}

void add_plan_options(cli::tool&, CLI::App& sub, plan_options& o) {
    sub.add_option("TARGET", o.targets, "targets to plan; none or -: read them from stdin")->type_name("TARGET");
    sub.add_option("-i,--input", o.inputs, "read targets from FILE (plain lines or NDJSON); repeatable")->type_name("FILE");
    sub.add_option("--target-field", o.target_fields, "NDJSON field naming the target (repeatable)")->type_name("PATH");
    sub.add_option("--window", o.window, "the period to spread the scans over (e.g. 24h, 7d)")
        ->type_name("DURATION")
        ->capture_default_str();
    sub.add_option("--bucket", o.bucket, "bucket size inside the window (e.g. 15m, 1h)")
        ->type_name("DURATION")
        ->capture_default_str();
    sub.add_option("--seed", o.seed, "random seed: the same seed, start and targets give the same plan")->type_name("N");
    sub.add_option("--start", o.start, "start of the window, RFC 3339 (default: the next window boundary, "
                                       "i.e. the next UTC midnight for 24h)")
        ->type_name("TIME");
}

exit_code run_plan(cli::tool& t, const plan_options& o) {
    auto window = time::parse_duration(o.window);
    auto bucket = time::parse_duration(o.bucket);
    if (!window || *window <= 0 || !bucket || *bucket <= 0 || *bucket > *window) {
        t.error(fmt::format("plan: invalid --window/--bucket: {} / {} (durations like 24h, 15m; bucket <= window)",
                            o.window, o.bucket));
        return exit_code::usage;
    }
    time::millis start;
    if (!o.start.empty()) {
        auto s = time::parse_iso8601(o.start);
        if (!s) {
            t.error(fmt::format("plan: invalid --start: {}", o.start));
            return exit_code::usage;
        }
        start = *s;
    } else {
        time::millis now = time::now();
        start = (now / *window + 1) * *window;
    }
    uint64_t seed = o.seed ? *o.seed : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    planner pl(start, *window, *bucket, seed);
    json::doc_builder doc;
    json::patch patch;
    std::string ts;
    auto on_item = [&](const input_item& it) {
        ++t.count().in;
        auto tg = parse_target(it.text);
        if (!tg) return t.reject(tg.err().message, it.source, it.line, it.record);
        auto s = pl.next();
        ts = time::rfc3339(s.at);
        std::string& buf = t.out().buffer();
        if (!it.original_json.empty()) {
            patch.clear();
            patch.set_string("scheduled_at", ts);
            patch.set_raw("sds.scan.plan.bucket", std::to_string(s.bucket));
            patch.apply(it.original_json, buf);
        } else {
            doc.clear();
            doc.set_string("target", it.text);
            doc.set_string("scheduled_at", ts);
            doc.set_uint("sds.scan.plan.bucket", s.bucket);
            doc.serialize(buf);
        }
        buf += '\n';
        t.out().commit();
        ++t.count().out;
        t.tick();
    };
    std::function<void(const input_item&)> fn = on_item;
    std::vector<std::string> files = o.inputs;
    uint64_t argn = 0;
    for (const auto& a : o.targets) {
        if (a == "-") {
            files.push_back("-");
            continue;
        }
        input_item it;
        it.text = a;
        it.source = "argument";
        it.line = ++argn;
        it.record = a;
        on_item(it);
    }
    if (o.targets.empty() && o.inputs.empty()) files.push_back("-");
    exit_code result = exit_code::ok;
    if (!files.empty())
        result = read_targets(t, files, o.target_fields.empty() ? default_target_fields() : o.target_fields, fn);
    t.add_stat("buckets", std::to_string(pl.buckets()));
    return result;
}

}  // namespace sds::scan
