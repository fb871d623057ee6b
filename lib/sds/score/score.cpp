#include "sds/score/score.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "sds/cli/input.hpp"
#include "sds/core/ip.hpp"
#include "sds/json/escape.hpp"
#include "sds/score/eval.hpp"
#include "sds/score/splice.hpp"

namespace sds::score {

void append_number(std::string& s, double v);

namespace {

void add_field_options(CLI::App& app, options& o, bool required) {
    auto* e = app.add_option("--entity", o.entity,
                             "entity field (user, role ARN, user agent...); repeat for fallbacks: the first present is used")
                  ->type_name("FIELD");
    auto* i = app.add_option("--ip", o.ip, "address field, e.g. source.ip or sourceIPAddress")->type_name("FIELD");
    if (required) {
        e->required();
        i->required();
    }
    app.add_option("--asn-field", o.asn, "ASN field (default: <ip prefix>.as.number, as sds-enrich writes it)")
        ->type_name("FIELD");
    app.add_option("--country-field", o.country, "country field (default: <ip prefix>.geo.country_iso_code)")
        ->type_name("FIELD");
    app.add_option("--location-field", o.location, "geo point field {lat,lon} (default: <ip prefix>.geo.location)")
        ->type_name("FIELD");
}

// The address as canonical text, quoted, without a temporary string.
void append_address(std::string& out, const ip::address& a) {
    out.push_back('"');
    if (a.v4) {
        uint32_t v = a.v4_value();
        for (int shift = 24; shift >= 0; shift -= 8) {
            unsigned x = (v >> shift) & 255;
            if (x >= 100) out.push_back(char('0' + x / 100));
            if (x >= 10) out.push_back(char('0' + x / 10 % 10));
            out.push_back(char('0' + x % 10));
            if (shift) out.push_back('.');
        }
    } else {
        char buf[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf)) out.append(buf);
    }
    out.push_back('"');
}

class anomaly_stage final : public record_stage {
public:
    anomaly_stage(const options& o, std::optional<model> m, history h)
        : opt_(o), model_(std::move(m)), hist_(std::move(h)), scorer_(model_ ? &*model_ : nullptr, o.learn ? &hist_ : nullptr) {
        f_ = resolve_fields(o, model_ ? &*model_ : nullptr);
        f_.time_always = o.learn;  // else only impossible travel needs it, and only with a location
        fx_.emplace(f_);
        json::append_string_lossy(model_id_json_, model_ ? model_->id() : std::string("online"));
    }
    const fields& flds() const { return f_; }

    // Reads the record's pair into `p` and starts its table loads (scorer::prepare): the first
    // half of evaluate(), for callers that read the next record before scoring this one. `ok`
    // is false when the record is left unscored (counted) or rejected (the verdict).
    verdict read(const io::record& r, pair& p, lookups& l, bool& ok) {
        ok = false;
        switch (fx_->extract(r.doc, p, scratch_)) {
            case extract_result::no_entity:
            case extract_result::no_address: ++unscored_; return {};
            case extract_result::malformed_address: return {true, fmt::format("malformed address in {}", f_.ip)};
            case extract_result::ok: break;
        }
        scorer_.prepare(p, l);
        ok = true;
        return {};
    }
    // The second half: scores a pair read by read() (pairs in input order: the history and the
    // last positions follow the records); the values are then written by write_anomaly/write_risk.
    void score(const pair& p, lookups& l) {
        p_ = p;
        res_ = scorer_.score(p_, l);
        if (impossible_travel(hist_.positions(), p_, opt_.travel)) {
            res_.reasons |= reason_travel;
            res_.score += 3.0;
            res_.risk = risk_of(res_.score);
        }
        if (opt_.learn) hist_.learn(p_, now_);
        ++scored_;
        flagged_now_ = res_.risk >= opt_.threshold;
        flagged_ += flagged_now_;
    }
    // Both halves; afterwards scored() tells whether the record has values to write.
    verdict evaluate(const io::record& r) {
        lookups l;
        verdict v = read(r, p_, l, scored_now_);
        if (scored_now_) score(p_, l);
        return v;
    }
    bool scored() const noexcept { return scored_now_; }
    // What the splice needs to know of the record just read, from the members read() listed.
    members_present present() const noexcept { return score::present(fx_->root_is_object(), fx_->root_members()); }
    // The values of the record just evaluated, appended as JSON.
    // sds.anomaly is written as one object: an sds.anomaly already in the record, from an
    // earlier run, is replaced as a whole.
    void write_anomaly(std::string& o) const {
        o += "{\"score\":";
        append_number(o, res_.score);
        if (res_.raw) {
            o += ",\"raw\":";
            append_number(o, *res_.raw);
        }
        o += ",\"entity\":";
        json::append_string_lossy(o, p_.entity);
        o += ",\"ip\":";
        append_address(o, p_.addr);
        o += ",\"model\":";
        o += model_id_json_;
        o += ",\"reasons\":";
        append_reasons(o, res_.reasons);
        if (flagged_now_) o += ",\"flagged\":true}";  // two appends of literals: no strlen
        else o += ",\"flagged\":false}";
    }
    void write_risk(std::string& o) const { append_number(o, std::round(res_.risk * 100) / 100); }
    // The values as edits, formatted straight into the patch's arena (one edit for the whole
    // sds.anomaly object, no per-record strings).
    void add_edits(json::patch& edits) const {
        edits.set_with("sds.anomaly", [&](std::string& o) { write_anomaly(o); });
        edits.set_with("event.risk_score", [&](std::string& o) { write_risk(o); });
    }

    verdict process(const io::record& r, json::patch& edits) override {
        verdict v = evaluate(r);
        if (scored_now_) add_edits(edits);
        return v;
    }

    status finish(cli::tool& t) override {
        t.add_stat("scored", std::to_string(scored_));
        t.add_stat("unscored", std::to_string(unscored_));
        t.add_stat("flagged", std::to_string(flagged_));
        if (opt_.learn && !opt_.state.empty()) return hist_.save(opt_.state);
        return {};
    }

private:
    const options& opt_;
    std::optional<model> model_;
    history hist_;
    scorer scorer_;
    fields f_;
    std::optional<extractor> fx_;  // f_'s paths, prepared once
    std::string model_id_json_;  // the model id, serialised once
    std::string scratch_;
    pair p_;  // the record just evaluated
    result res_;
    bool scored_now_ = false, flagged_now_ = false;
    time::millis now_ = time::now();
    uint64_t scored_ = 0, unscored_ = 0, flagged_ = 0;
};

}  // namespace

fields resolve_fields(const options& o, const model* m) {
    fields f;
    if (m) f = m->trained_fields();
    if (!o.entity.empty()) f.entity = o.entity;
    if (!o.ip.empty()) {
        if (o.ip != f.ip) f.asn.clear(), f.country.clear(), f.location.clear();
        f.ip = o.ip;
    }
    if (!o.asn.empty()) f.asn = o.asn;
    if (!o.country.empty()) f.country = o.country;
    if (!o.location.empty()) f.location = o.location;
    f.complete();
    return f;
}

void append_number(std::string& s, double v) {
    if (!std::isfinite(v)) v = v > 0 ? 1e300 : v < 0 ? -1e300 : 0;
    // The common case by integer arithmetic; values near a rounding tie, large ones and
    // negative zero go through fmt, which rounds the exact binary value.
    double scaled = v * 1e4;
    if (std::abs(scaled) < 1e9) {  // the product's error stays far below the tie margin
        // Integer part by conversion (exact below 1e9) and the fraction by subtraction (exact):
        // away from a tie, rounding to nearest is the integer part stepped by the fraction.
        auto t = static_cast<long long>(scaled);
        double frac = scaled - static_cast<double>(t);
        if (std::abs(std::abs(frac) - 0.5) > 1e-6) {
            long long n = t + (frac > 0.5 ? 1 : frac < -0.5 ? -1 : 0);
            if (n == 0) {
                s.push_back('0');
                return;
            }
            // Digits from the right into a buffer, then one append.
            char buf[24];
            int pos = sizeof buf;
            bool negative = n < 0;
            if (negative) n = -n;
            long long ip = n / 10000, fp = n % 10000;
            int decimals = 4;
            while (decimals > 0 && fp % 10 == 0) fp /= 10, --decimals;
            for (int d = 0; d < decimals; ++d) buf[--pos] = char('0' + fp % 10), fp /= 10;
            if (decimals) buf[--pos] = '.';
            do buf[--pos] = char('0' + ip % 10), ip /= 10;
            while (ip);
            if (negative) buf[--pos] = '-';
            s.append(buf + pos, sizeof buf - pos);
            return;
        }
    }
    char buf[400];  // 1e300 in fixed notation: 301 digits and the decimals
    auto r = fmt::format_to_n(buf, sizeof buf, "{:.4f}", v);
    size_t n = std::min(r.size, sizeof buf);
    while (n > 0 && buf[n - 1] == '0') --n;
    if (n > 0 && buf[n - 1] == '.') --n;
    if (n == 2 && buf[0] == '-' && buf[1] == '0') s.push_back('0');
    else s.append(buf, n);
}

std::string number(double v) {
    std::string s;
    append_number(s, v);
    return s;
}

void add_options(cli::tool& t, options& o) {
    auto& app = t.app();
    app.require_subcommand(0, 1);
    t.add_inputs(o.inputs, "records to score (- or none: stdin)");
    app.add_option("--model", o.model, "model file written by 'sds-score train'")->type_name("MODEL");
    app.add_option("--threshold", o.threshold, "mark records with event.risk_score at or above this (0-100) as flagged")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 100.0));
    app.add_flag("--learn", o.learn,
                 "online mode: keep per-entity history (addresses, /24, /16, ASN, country) as records pass; works without --model");
    app.add_option("--state", o.state, "with --learn: load the history from FILE and save it back at the end")
        ->type_name("FILE");
    app.add_option("--max-kmh", o.travel.max_kmh, "impossible travel: speed between an entity's located events above this")
        ->capture_default_str();
    app.add_option("--min-travel-km", o.travel.min_km, "impossible travel: ignore hops shorter than this")
        ->capture_default_str();
    add_field_options(app, o, false);

    o.train_cmd = app.add_subcommand("train", "learn entity and address embeddings from records and write a model");
    auto& tr = *o.train_cmd;
    tr.fallthrough();  // common flags (--stats, -v, ...) may follow the subcommand
    add_field_options(tr, o, true);
    tr.add_option("-o,--output", o.model_out, "model file to write")->required()->type_name("MODEL");
    tr.add_option("--epochs", o.train.epochs, "passes over the training pairs")->capture_default_str()->check(CLI::Range(1, 1000));
    tr.add_option("--dim", o.train.dim, "embedding dimension")->capture_default_str()->check(CLI::Range(2, 512));
    tr.add_option("--seed", o.train.seed, "random seed (same seed and input give the same model)")->capture_default_str();
    tr.add_option("--threads", o.train.threads, "training threads (0: the machine's cores; the model does not depend on it)")
        ->capture_default_str();
    tr.add_option("--max-entities", o.train.max_entities,
                  "entities with a vector of their own (the most frequent); the rest share hashed vectors")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1u << 28));
    tr.add_option("--max-pairs", o.train.max_pairs,
                  "distinct (entity, address) pairs kept for training, which bounds memory; beyond, a uniform "
                  "reservoir sample of them")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1u << 30));
    tr.add_option("--learning-rate", o.train.learning_rate, "initial SGD step (decays linearly)")->capture_default_str();
    tr.add_option("--shuffled-negatives", o.train.shuffled_negatives, "negatives per pair taken from other pairs' addresses")
        ->capture_default_str();
    tr.add_option("--random-negatives", o.train.random_negatives, "negatives per pair with a uniform random IPv4 address")
        ->capture_default_str();
    tr.add_option("FILE", o.train_inputs, "training records (- or none: stdin)")->type_name("FILE");

    o.eval_cmd = app.add_subcommand("eval", "report ROC AUC and TPR at low FPR of a model on held-out records");
    auto& ev = *o.eval_cmd;
    ev.fallthrough();
    ev.add_option("--model", o.eval_model, "model file to evaluate")->required()->type_name("MODEL");
    add_field_options(ev, o, false);
    ev.add_option("--networks", o.networks,
                  "network table CSV start,end,asn,country for generated addresses (default: the input's own addresses)")
        ->type_name("CSV");
    ev.add_option("--seed", o.eval_seed, "random seed for the generated pairs")->capture_default_str();
    ev.add_option("FILE", o.eval_inputs, "held-out records (- or none: stdin)")->type_name("FILE");
}

std::unique_ptr<record_stage> make_anomaly_stage(cli::tool& t, const options& o, exit_code& err) {
    err = exit_code::ok;
    std::optional<model> m;
    if (!o.model.empty()) {
        auto r = model::open(o.model);
        if (!r) {
            t.error(r.err().message);
            err = r.err().code;
            return nullptr;
        }
        m = std::move(r.value());
    } else if (!o.learn) {
        t.error("nothing to score with: give --model MODEL, --learn, or both");
        err = exit_code::usage;
        return nullptr;
    }
    if (!o.state.empty() && !o.learn) {
        t.error("--state needs --learn");
        err = exit_code::usage;
        return nullptr;
    }
    history h;
    if (o.learn && !o.state.empty()) {
        auto r = history::load(o.state);
        if (!r) {
            t.error(r.err().message);
            err = r.err().code;
            return nullptr;
        }
        h = std::move(r.value());
    }
    auto st = std::make_unique<anomaly_stage>(o, std::move(m), std::move(h));
    if (st->flds().entity.empty() || st->flds().ip.empty()) {
        t.error("no entity or address field: give --entity and --ip (or a --model that names them)");
        err = exit_code::usage;
        return nullptr;
    }
    return st;
}

namespace {
// Every stage in turn on each record, their edits applied by json::patch.
exit_code run_stages(cli::tool& t, const options& o, std::vector<std::unique_ptr<record_stage>>& stages,
                     json::patch& edits) {
    return cli::read_records(t, o.inputs, [&](const io::record& r) -> status {
        edits.clear();
        for (auto& s : stages) {
            verdict v = s->process(r, edits);
            if (v.reject) {
                t.reject(v.reason, r.source, r.line, r.text);
                return {};
            }
            if (v.drop) {
                ++t.count().filtered;
                return {};
            }
        }
        std::string& out = t.out().buffer();
        if (edits.empty()) out.append(r.text);
        else edits.apply(r.text, r.doc, out);
        out += '\n';
        t.out().commit();
        ++t.count().out;
        return {};
    });
}
}  // namespace

exit_code run_score(cli::tool& t, options& o, std::vector<std::unique_ptr<record_stage>> extra) {
    exit_code err;
    std::vector<std::unique_ptr<record_stage>> stages;
    anomaly_stage* alone = nullptr;  // the anomaly stage when it is the only one
    // Anomaly scoring runs when asked for (--model/--learn), or when nothing else was asked.
    if (!o.model.empty() || o.learn || extra.empty()) {
        auto a = make_anomaly_stage(t, o, err);
        if (!a) return err;
        if (extra.empty()) alone = static_cast<anomaly_stage*>(a.get());  // it makes nothing else
        stages.push_back(std::move(a));
    }
    for (auto& s : extra) stages.push_back(std::move(s));
    json::patch edits;
    exit_code result;
    if (alone) {
        // Anomaly scoring alone: the values are spliced into the record's text by the scoring
        // writer (splice.hpp), json::patch only for the shapes it leaves to it. Each record is
        // read (its table loads started) and its head written before the record ahead of it is
        // scored and finished, so the loads of the two overlap; the held record keeps copies of
        // what it needs from the parsed one (its entity and the text after "event").
        anomaly_stage& a = *alone;
        struct held {
            pair p;
            lookups l;
            splice_plan plan;
            std::string entity, rest;
        };
        held slots[2];
        held* pending = nullptr;  // read, head written, not scored yet
        int next = 0;
        auto write_anomaly = [&](std::string& s) { a.write_anomaly(s); };
        auto write_risk = [&](std::string& s) { a.write_risk(s); };
        // Scores the held record and writes the rest of it; `commit` hands the output on (not
        // while a failure unwinds: the finished record then waits in the buffer).
        auto finish_pending = [&](bool commit = true) {
            if (!pending) return;
            held& h = *pending;
            pending = nullptr;
            a.score(h.p, h.l);
            std::string& out = t.out().buffer();
            splice_tail(h.plan, out, write_anomaly, write_risk);
            out += '\n';
            if (commit) t.out().commit();
            ++t.count().out;
        };
        auto each = [&](const io::record& r) -> status {
            held& h = slots[next];
            bool ok = false;
            verdict v = a.read(r, h.p, h.l, ok);
            finish_pending();
            if (v.reject) {
                t.reject(v.reason, r.source, r.line, r.text);
                return {};
            }
            std::string& out = t.out().buffer();
            if (!ok) {
                out.append(r.text);
            } else if (splice_head(r.text, a.present(), out, h.plan)) {
                h.entity.assign(h.p.entity);  // the parser's buffers are reused by the next record
                h.p.entity = h.entity;
                h.rest.assign(h.plan.rest);
                h.plan.rest = h.rest;
                pending = &h;
                next ^= 1;
                return {};
            } else {
                a.score(h.p, h.l);
                edits.clear();
                a.add_edits(edits);
                edits.apply(r.text, r.doc, out);
            }
            out += '\n';
            t.out().commit();
            ++t.count().out;
            return {};
        };
        try {
            result = cli::read_records(t, o.inputs, each);
        } catch (...) {
            // A failure (say, writing a dead letter) while a record's head waits in the output:
            // finish that record, as it was before the failure, so that whatever of the output
            // is still written holds whole records only.
            finish_pending(false);
            throw;
        }
        finish_pending();
    } else {
        result = run_stages(t, o, stages, edits);
    }
    for (auto& s : stages) {
        if (auto st = s->finish(t); !st) {
            t.error(st.err().message);
            result = worst(result, st.err().code);
        }
    }
    return result;
}

exit_code run_train(cli::tool& t, options& o) {
    fields f;
    f.entity = o.entity;
    f.ip = o.ip;
    f.asn = o.asn;
    f.country = o.country;
    f.location = o.location;
    f.complete();
    trainer tr(o.train);
    std::string scratch;
    pair p;
    const extractor fx(f);
    auto t0 = std::chrono::steady_clock::now();
    exit_code result = cli::read_records(t, o.train_inputs, [&](const io::record& r) -> status {
        switch (fx.extract(r.doc, p, scratch)) {
            case extract_result::ok:
                tr.add(p);
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
    auto t1 = std::chrono::steady_clock::now();
    if (tr.sampled())
        t.info(fmt::format("more than --max-pairs {} distinct pairs, entities or history keys: trained on a sample "
                           "({} of {} distinct pairs kept)",
                           o.train.max_pairs, tr.distinct_pairs(), tr.offered_pairs()));
    auto m = tr.train(f);
    if (!m) {
        t.error(m.err().message);
        return worst(result, m.err().code);
    }
    auto t2 = std::chrono::steady_clock::now();
    m->extra_meta.emplace_back("epochs", std::to_string(o.train.epochs));
    m->extra_meta.emplace_back("dim", std::to_string(o.train.dim));
    m->extra_meta.emplace_back("seed", std::to_string(o.train.seed));
    if (auto s = write_model(o.model_out, *m); !s) {
        t.error(s.err().message);
        return worst(result, s.err().code);
    }
    double read_s = std::chrono::duration<double>(t1 - t0).count(), fit_s = std::chrono::duration<double>(t2 - t1).count();
    t.info(fmt::format("trained on {} pairs ({} distinct, {} entities) in {:.2f} s after {:.2f} s reading: {}", tr.pairs(),
                       tr.distinct_pairs(), m->n_exact + m->n_shared, fit_s, read_s, o.model_out));
    t.add_stat("pairs", std::to_string(tr.pairs()));
    t.add_stat("distinct_pairs", std::to_string(tr.distinct_pairs()));
    t.add_stat("offered_pairs", std::to_string(tr.offered_pairs()));
    t.add_stat("sampled", tr.sampled() ? "true" : "false");
    t.add_stat("entities", std::to_string(m->n_exact));
    t.add_stat("train_seconds", number(fit_s));
    return result;
}

exit_code run(cli::tool& t, options& o) {
    if (o.train_cmd && o.train_cmd->parsed()) return run_train(t, o);
    if (o.eval_cmd && o.eval_cmd->parsed()) return run_eval(t, o);
    return run_score(t, o);
}

}  // namespace sds::score
