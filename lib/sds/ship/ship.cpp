#include "sds/ship/ship.hpp"

#include <fmt/format.h>

#include <fstream>

#include "sds/cli/input.hpp"
#include "sds/core/signals.hpp"
#include "sds/ship/sink.hpp"

namespace sds::ship {

std::string base64(std::string_view in) {
    static const char* const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
        out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
    }
    if (i + 1 == in.size()) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
        out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
    }
    return out;
}

expected<std::string> read_secret_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) return make_error(exit_code::usage, fmt::format("cannot read secret file: {}", path));
    std::string line;
    std::getline(f, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) return make_error(exit_code::usage, fmt::format("secret file is empty: {}", path));
    return line;
}

void add_options(cli::tool& t, options& o) {
    auto& app = t.app();
    t.add_inputs(o.inputs, "NDJSON records to ship (- or none: stdin)");
    t.no_record_output();
    const char* es = "Elasticsearch";
    const char* auth = "Authentication and TLS";
    const char* sinks = "Other sinks";
    app.add_option("--es", o.es, "Elasticsearch/OpenSearch base URL; repeat for round-robin with failover")->group(es);
    app.add_option("--index", o.index, "index or data stream name; {field} and {field:%Y.%m.%d} parts come from each record")
        ->capture_default_str()->group(es);
    t.choices(app.add_option("--op", o.op, "bulk action: create (data streams; a 409 counts as already delivered) or index (overwrite)")
                  ->capture_default_str()->group(es),
              {"create", "index"});
    app.add_option("--id-field", o.id_field, "take _id from this field as it is, instead of hashing event.dataset + event.id")->group(es);
    app.add_flag("--no-id", o.no_id, "send no _id (the server picks one; a replay then duplicates)")->group(es);
    app.add_option("--pipeline", o.pipeline, "ingest pipeline to run on the documents")->group(es);
    app.add_option("--batch-bytes", o.batch_bytes_text, "send a bulk request when its body reaches this size (k/M/G suffixes)")
        ->capture_default_str()->group(es);
    app.add_option("--batch-docs", o.batch_docs, "send a bulk request when it holds this many documents")->capture_default_str()->group(es);
    app.add_option("--flush-interval", o.flush_interval, "send a partial batch once its oldest document waited this many seconds (0: never)")
        ->capture_default_str()->group(es);
    app.add_flag("--compress", o.compress, "gzip request bodies and accept gzip responses")->group(es);
    app.add_option("--concurrency", o.concurrency, "bulk requests in flight at once")->capture_default_str()->check(CLI::Range(1, 256))->group(es);
    app.add_option("--max-retries", o.max_retries, "retries of a request (429, 5xx, timeouts, resets) before giving up")
        ->capture_default_str()->check(CLI::Range(0, 1000))->group(es);
    app.add_option("--retry-max-time", o.retry_max_time, "give up retrying a batch after this many seconds")->capture_default_str()->group(es);
    app.add_option("--retry-delay", o.retry_delay, "first retry delay in seconds (doubled each time, jittered)")->capture_default_str()->group(es);
    app.add_option("--retry-max-delay", o.retry_max_delay, "longest retry delay in seconds")->capture_default_str()->group(es);
    app.add_option("--timeout", o.timeout, "seconds a bulk request may take before it is retried")->capture_default_str()->group(es);
    app.add_flag("--setup", o.setup, "install the component and index templates (mappings for sds fields) before loading")->group(es);
    app.add_option("--template-name", o.template_name, "name of the index template (--setup); the component is NAME-ecs-mappings")
        ->capture_default_str()->group(es);
    app.add_flag("--refresh", o.refresh, "ask for refresh=wait_for on every bulk request (tests, small loads)")->group(es);
    app.add_flag("--from-dead-letter", o.from_dead_letter, "input lines are dead letters: ship their \"record\" (replay)");
    app.add_option("--user", o.user, "basic auth user (password from --password-file or SDS_ES_PASSWORD)")->group(auth);
    app.add_option("--password-file", o.password_file, "file holding the basic auth password")->group(auth);
    app.add_option("--api-key-file", o.api_key_file, "file holding an API key (id:key or the encoded form)")->group(auth);
    t.choices(app.add_option("--aws-sigv4", o.aws_sigv4, "sign requests with AWS SigV4: es (Amazon OpenSearch Service) or aoss (Serverless)")->group(auth),
              {"es", "aoss"});
    app.add_option("--region", o.region, "AWS region for --aws-sigv4 and S3 (default: AWS_REGION)")->group(auth);
    app.add_option("--profile", o.profile, "AWS profile for credentials")->group(auth);
    app.add_option("--cacert", o.cacert, "extra CA bundle (PEM) to verify the server's certificate")->group(auth);
    app.add_flag("--insecure", o.insecure, "do not verify TLS certificates (warns)")->group(auth);
    app.add_option("--to", o.to, "write to FILE (gzip if it ends in .gz) or s3://bucket/prefix/ instead of Elasticsearch")->group(sinks);
    app.add_option("--endpoint-url", o.endpoint_url, "S3-compatible endpoint for --to s3://")->group(sinks);
    app.add_option("--roll-bytes", o.roll_bytes_text, "S3: upload an object once its NDJSON (before gzip) reaches this size")
        ->capture_default_str()->group(sinks);
    app.add_option("--roll-interval", o.roll_interval, "S3: upload an object once it is this many seconds old")->capture_default_str()->group(sinks);
    app.add_option("--partition-field", o.partition_field, "S3: time field choosing the dt=YYYY-MM-DD/ partition")
        ->capture_default_str()->group(sinks);
}

exit_code run(cli::tool& t, options& o) {
    auto bb = cli::parse_size(o.batch_bytes_text);
    if (!bb || *bb == 0) {
        t.error(fmt::format("--batch-bytes: invalid size: {}", o.batch_bytes_text));
        return exit_code::usage;
    }
    o.batch_bytes = *bb;
    auto rb = cli::parse_size(o.roll_bytes_text);
    if (!rb || *rb == 0) {
        t.error(fmt::format("--roll-bytes: invalid size: {}", o.roll_bytes_text));
        return exit_code::usage;
    }
    o.roll_bytes = *rb;
    if (o.batch_docs == 0) o.batch_docs = 1;
    if (o.es.empty() == o.to.empty()) {
        t.error("give exactly one destination: --es URL or --to FILE|s3://bucket/prefix/");
        return exit_code::usage;
    }
    if (!o.user.empty() && !o.api_key_file.empty()) {
        t.error("--user and --api-key-file exclude each other");
        return exit_code::usage;
    }
    if (o.insecure) t.warn("--insecure: TLS certificates are NOT verified; anyone on the path can read and change this traffic");

    expected<std::unique_ptr<sink>> made = make_error(exit_code::internal, "no sink");
    if (!o.es.empty())
        made = make_es_sink(t, o);
    else if (o.to.rfind("s3://", 0) == 0)
        made = make_s3_sink(t, o);
    else
        made = make_file_sink(t, o);
    if (!made) {
        t.error(made.err().message);
        return made.err().code;
    }
    sink& s = **made;

    simdjson::dom::parser inner;
    exit_code read = cli::read_records(t, o.inputs, [&](const io::record& r) -> status {
        record_ref ref{r.text, r.doc, r.source, r.line};
        if (o.from_dead_letter) {
            std::string_view rec;
            if (r.doc["record"].get(rec) != simdjson::SUCCESS || rec.empty()) {
                t.reject("dead letter holds no record", r.source, r.line, r.text);
                return {};
            }
            simdjson::dom::element d;
            if (inner.parse(rec.data(), rec.size(), true).get(d) != simdjson::SUCCESS || !d.is_object()) {
                t.reject("dead letter record is not a JSON object", r.source, r.line, rec);
                return {};
            }
            ref.text = rec;
            ref.doc = d;
        }
        // SIGINT/SIGTERM: this record (already counted) still goes out; reading stops after it.
        if (auto st = s.add(ref); !st) return st;
        if (interrupted()) return make_error(exit_code::interrupted, "interrupted: stopped reading");
        return {};
    });
    exit_code fin = s.finish();
    return worst(read, fin);
}

}  // namespace sds::ship
