#include "sds/normalize/normalize.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "sds/cli/input.hpp"
#include "sds/core/hash.hpp"
#include "sds/formats/access_log.hpp"
#include "sds/formats/alb.hpp"
#include "sds/formats/cloudtrail.hpp"
#include "sds/formats/findings.hpp"
#include "sds/formats/squid.hpp"
#include "sds/formats/suricata.hpp"
#include "sds/formats/vpcflow.hpp"
#include "sds/formats/waf.hpp"
#include "sds/io/buffer.hpp"
#include "sds/normalize/parallel.hpp"

namespace sds::normalize {

namespace {
constexpr std::string_view ecs_version = "8.11.0";

// The fields finish_doc() sets, by path (doc_builder) or by layout node (CloudTrail).
struct builder_fields {
    static constexpr std::string_view timestamp = "@timestamp", ecs_version = "ecs.version", kind = "event.kind",
                                      dataset = "event.dataset", module = "event.module",
                                      file_path = "log.file.path", offset = "log.offset", id = "event.id",
                                      original = "event.original", ingested = "event.ingested";
};
struct cloudtrail_fields {
    static constexpr json::layout_id timestamp = formats::ct("@timestamp"), ecs_version = formats::ct("ecs.version"),
                                     kind = formats::ct("event.kind"), dataset = formats::ct("event.dataset"),
                                     module = formats::ct("event.module"), file_path = formats::ct("log.file.path"),
                                     offset = formats::ct("log.offset"), id = formats::ct("event.id"),
                                     original = formats::ct("event.original"),
                                     ingested = formats::ct("event.ingested");
};

std::string format_names(bool with_auto) {
    std::string s = with_auto ? "auto" : "";
    for (const auto& f : formats()) {
        if (!f.available) continue;
        if (!s.empty()) s += ", ";
        s += f.name;
    }
    return s;
}
}  // namespace

void add_options(cli::tool& t, options& o) {
    auto& app = t.app();
    t.add_inputs(o.inputs, "NDJSON records from sds-fetch, or raw log lines wrapped as {\"message\":...} (- or none: stdin)");
    std::vector<std::string> names{"auto"};
    for (const auto& f : formats()) names.emplace_back(f.name);
    names.emplace_back("elb");
    names.emplace_back("nlb");
    t.choices(app.add_option("--format", o.format, "input format; auto detects it per record")
                  ->type_name("NAME")
                  ->default_str("auto"),
              names);
    app.add_flag("--keep-original", o.keep_original, "keep the raw record in event.original");
    app.add_flag("--list-formats", o.list_formats, "list the formats this version reads, then exit");
    app.add_option("--vpcflow-fields", o.vpcflow_fields,
                   "field order of custom VPC Flow Logs without a header line (space-separated names)")
        ->type_name("FIELDS");
    app.add_option("--threads", o.threads,
                   "worker threads (0: one per online core; 1: everything on one thread); the output is the same")
        ->type_name("N")
        ->default_str("0");
    app.add_option("--ingested-time", o.ingested_time,
                   "fixed event.ingested (RFC 3339) instead of the current time, for reproducible output")
        ->type_name("TIME");
}

normalizer::normalizer() : cloudtrail_doc_(formats::cloudtrail_paths) {}

expected<std::unique_ptr<normalizer>> normalizer::make(const options& o) {
    std::unique_ptr<normalizer> n(new normalizer());
    if (o.format != "auto") {
        auto id = by_name(o.format);
        if (!id) return make_error(exit_code::usage, fmt::format("unknown format: {} (known: {})", o.format, format_names(true)));
        if (!info(*id).available)
            return make_error(exit_code::usage, fmt::format("format not available in this version: {}", o.format));
        n->forced_ = id;
    }
    if (!o.ingested_time.empty()) {
        auto t = time::parse_iso8601(o.ingested_time);
        if (!t) return make_error(exit_code::usage, fmt::format("invalid --ingested-time: {} (expected RFC 3339)", o.ingested_time));
        n->fixed_ingested_ = time::rfc3339(*t);
    }
    if (o.threads > 1024) return make_error(exit_code::usage, fmt::format("invalid --threads: {} (at most 1024)", o.threads));
    n->keep_original_ = o.keep_original;
    if (!o.vpcflow_fields.empty()) {
        if (auto st = n->vpcflow_.set_fields(o.vpcflow_fields); !st)
            return make_error(exit_code::usage, fmt::format("invalid --vpcflow-fields: {}", st.err().message));
    }
    return n;
}

namespace {

void provenance_id_into(std::string& out, std::string_view uri, uint64_t line) {
    hash::hex128_hasher h;
    h.add(uri);
    h.add("\n");
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, line);
    h.add({buf, static_cast<size_t>(r.ptr - buf)});
    out.clear();
    h.append_to(out);
}

void content_id_into(std::string& out, std::string_view raw) {
    hash::hex128_hasher h;
    h.add(raw);
    out.clear();
    h.append_to(out);
}

}  // namespace

std::string normalizer::provenance_id(std::string_view uri, uint64_t line) {
    std::string s;
    provenance_id_into(s, uri, line);
    return s;
}

std::string normalizer::content_id(std::string_view raw) {
    std::string s;
    content_id_into(s, raw);
    return s;
}

std::string_view normalizer::ingested() {
    if (!fixed_ingested_.empty()) return fixed_ingested_;
    time::millis now = time::now();
    if (now != last_now_) {
        last_now_ = now;
        now_text_.clear();
        time::append_rfc3339(now_text_, now);
    }
    return now_text_;
}

status normalizer::dispatch(format_id f, std::string_view raw, formats::object rec) {
    (void)raw;
    switch (f) {
        case format_id::waf: return formats::parse_waf(rec, doc_, scratch_);
        case format_id::suricata: return formats::parse_suricata(rec, doc_, scratch_);
        case format_id::guardduty: return formats::parse_guardduty(rec, doc_, scratch_);
        case format_id::health: return formats::parse_health(rec, doc_, scratch_);
        default: break;
    }
    return formats::reject(fmt::format("not a {} record", info(f).name));
}

status normalizer::dispatch_text(std::string_view message, const format_info*& used) {
    std::optional<format_id> f = forced_;
    if (!f) {
        if (formats::looks_like_elb(message))
            f = format_id::alb;
        else if (formats::vpcflow_parser::is_header(message) || formats::looks_like_vpcflow(message))
            f = format_id::vpcflow;
        else if (formats::looks_like_squid(message))
            f = format_id::squid;
        else if (formats::looks_like_access_log(message))
            f = formats::guess_access_log_flavour(message) == formats::access_log_flavour::nginx ? format_id::nginx
                                                                                                 : format_id::apache;
    }
    if (!f) return formats::reject("no recognised format");
    used = &info(*f);
    switch (*f) {
        case format_id::alb: return formats::parse_elb(message, doc_);
        case format_id::squid: return formats::parse_squid(message, doc_);
        case format_id::nginx: return formats::parse_nginx(message, doc_);
        case format_id::apache: return formats::parse_apache(message, doc_);
        case format_id::vpcflow: {
            bool header = false;
            auto st = vpcflow_.parse(message, doc_, header);
            if (st && header) header_ = true;
            return st;
        }
        default: break;
    }
    return formats::reject(fmt::format("not a {} record (text given)", used->name));
}

status normalizer::process(std::string_view text, formats::object rec, std::string& out) {
    doc_.clear();
    header_ = false;
    extra_ = 0;
    std::optional<format_id> f = forced_;
    std::string_view raw = text;  // what event.original and the content hash see
    std::string_view message = formats::str(rec, "message");
    formats::object target = rec;
    bool wrapped_json = false;
    if (!message.empty()) {
        size_t i = message.find_first_not_of(" \t\r");
        if (i != std::string_view::npos && message[i] == '{' && (!f || info(*f).json)) {
            // A JSON record carried in a message field (CloudWatch Logs, Filebeat).
            inner_buf_.reserve(message.size() + io::padding);
            inner_buf_.assign(message);
            simdjson::dom::element inner;
            auto err = inner_parser_.parse(inner_buf_.data(), inner_buf_.size(), false).get(inner);
            if (!err && !inner.get_object().get(target)) {
                wrapped_json = true;
                raw = message;
            } else {
                // Looks like JSON, is not: say why rather than "no recognised format".
                return formats::reject(err ? "message: " + io::json_error_reason(err)
                                           : std::string("message is not a JSON object"));
            }
        }
    }
    status st;
    const format_info* used = nullptr;
    if (wrapped_json || message.empty() || (f && info(*f).json)) {
        if (!f) f = detect_json(target);
        if (!f) {
            if (!message.empty() && !wrapped_json) return dispatch_text(message, used);
            return formats::reject("no recognised format");
        }
        used = &info(*f);
        if (!used->json) return formats::reject(fmt::format("not a {} record (JSON given)", used->name));
        if (*f == format_id::securityhub) return process_findings(raw, rec, target, out);
        if (*f == format_id::cloudtrail) {
            cloudtrail_doc_.clear();
            if (auto ct = formats::parse_cloudtrail(target, cloudtrail_doc_, scratch_); !ct) return ct;
            return finish_doc<json::layout_doc, cloudtrail_fields>(cloudtrail_doc_, used, raw, rec, out);
        }
        st = dispatch(*f, raw, target);
    } else {
        raw = message;
        st = dispatch_text(message, used);
    }
    if (!st) return st;
    if (header_) return {};  // a layout line (VPC Flow header): nothing to write
    return finish(used, raw, rec, out);
}

status normalizer::process_findings(std::string_view raw, formats::object rec, formats::object target, std::string& out) {
    // A Security Hub EventBridge event carries detail.findings[]: one document per finding.
    const format_info* used = &info(format_id::securityhub);
    formats::object base = formats::finding_of(target);
    simdjson::dom::element list;
    if (!formats::val(base, "findings", list) || !list.is_array()) {
        doc_.clear();
        if (auto st = formats::parse_securityhub(base, doc_, scratch_); !st) return st;
        return finish(used, raw, rec, out);
    }
    // A finding that cannot be used rejects the whole event: the documents of the findings before
    // it are taken back, so a rejected record has appended nothing (as process() promises).
    const size_t mark = out.size();
    auto reject = [&](status st) {
        out.resize(mark);
        return st;
    };
    size_t n = 0;
    for (simdjson::dom::element e : simdjson::dom::array(list)) {
        formats::object finding;
        if (e.get_object().get(finding)) return reject(formats::reject("securityhub: a finding is not an object"));
        doc_.clear();
        if (auto st = formats::parse_securityhub(finding, doc_, scratch_); !st) return reject(st);
        if (auto st = finish(used, raw, rec, out); !st) return reject(st);
        ++n;
    }
    if (n == 0) return formats::reject("securityhub: no findings");
    extra_ = n - 1;
    return {};
}

status normalizer::finish(const format_info* used, std::string_view raw, formats::object rec, std::string& out) {
    return finish_doc<json::doc_builder, builder_fields>(doc_, used, raw, rec, out);
}

template <class Doc, class Paths>
status normalizer::finish_doc(Doc& doc, const format_info* used, std::string_view raw, formats::object rec,
                              std::string& out) {
    if (!doc.has(Paths::timestamp)) return formats::reject("no timestamp");

    // What every document gets.
    doc.set_string(Paths::ecs_version, ecs_version);
    if (used) {
        if (!doc.has(Paths::kind)) doc.set_string(Paths::kind, "event");
        if (!doc.has(Paths::dataset)) doc.set_string(Paths::dataset, used->dataset);
        if (!doc.has(Paths::module)) doc.set_string(Paths::module, used->module);
    }
    formats::object src;
    std::string_view uri;
    int64_t line = -1;
    if (formats::obj(rec, "@source", src)) {
        uri = formats::str(src, "uri");
        simdjson::dom::element le;
        if (formats::val(src, "line", le)) formats::as_int(le, line);
    }
    if (!uri.empty()) {
        doc.set_string(Paths::file_path, uri);
        if (line >= 0) doc.set_int(Paths::offset, line);
    }
    if (!doc.has(Paths::id)) {
        if (!uri.empty() && line >= 0)
            provenance_id_into(id_buf_, uri, uint64_t(line));
        else
            content_id_into(id_buf_, raw);
        doc.set_string(Paths::id, id_buf_);
    }
    if (keep_original_) doc.set_string(Paths::original, raw);
    doc.set_string(Paths::ingested, ingested());
    doc.serialize(out);
    out.push_back('\n');
    return {};
}

status normalizer::process_line(std::string_view line, std::string& out) {
    line_buf_.reserve(line.size() + io::padding);
    line_buf_.assign(line);
    simdjson::dom::element e;
    if (auto err = line_parser_.parse(line_buf_.data(), line_buf_.size(), false).get(e))
        return formats::reject(io::json_error_reason(err));
    formats::object o;
    if (e.get_object().get(o)) return formats::reject("not a JSON object");
    return process(line, o, out);
}

exit_code run(cli::tool& t, const options& o) {
    if (o.list_formats) {
        std::string s;
        for (const auto& f : formats())
            if (f.available) s += fmt::format("{:<12} {:<26} {}\n", f.name, f.dataset, f.summary);
        t.out().write(s);
        return exit_code::ok;
    }
    auto n = normalizer::make(o);
    if (!n) {
        t.error(n.err().message);
        return n.err().code;
    }
    unsigned threads = o.threads;
    if (threads == 0) {
        long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? static_cast<unsigned>(cores) : 1;
    }
    if (threads > 1) return run_parallel(t, o, threads);
    normalizer& norm = **n;
    std::string& buf = t.out().buffer();
    std::string last_source;
    auto result = cli::read_records(t, o.inputs, [&](const io::record& r) -> status {
        formats::object rec;
        if (r.doc.get_object().get(rec)) {
            t.reject("not a JSON object", r.source, r.line, r.text);
            return {};
        }
        if (r.source != last_source) {
            last_source = r.source;
            norm.new_source();
        }
        const size_t mark = buf.size();
        auto st = norm.process(r.text, rec, buf);
        if (!st) {
            buf.resize(mark);
            t.reject(st.err().message, r.source, r.line, r.text);
            return {};
        }
        if (norm.was_header()) {
            ++t.count().filtered;  // a VPC Flow header line: a layout, not a record
            return {};
        }
        // One record may fan out (Security Hub findings[]): count each document as read and
        // written, so in == out + rejected + filtered holds.
        t.count().in += norm.extra_outputs();
        t.count().out += 1 + norm.extra_outputs();
        t.out().commit();
        return {};
    });
    return result;
}

}  // namespace sds::normalize
