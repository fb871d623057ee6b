#include "sds/fetch/fetch.hpp"

#include <fmt/format.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "sds/cli/input.hpp"
#include "sds/core/signals.hpp"
#include "sds/fetch/emitter.hpp"
#include "sds/fetch/s3_source.hpp"

namespace sds::fetch {

namespace fs = std::filesystem;

void add_options(cli::tool& t, options& o) {
    auto& app = t.app();
    app.add_option("SOURCE", o.sources, "files, folders (read recursively, in sorted order) or - for stdin")
        ->type_name("PATH");
    app.add_flag("--annotate", o.annotate,
                 "add \"@source\":{\"uri\",\"line\"} to every record (provenance for deterministic ids)");
    app.add_option("--include", o.include, "only read paths/keys matching this glob (repeatable)")
        ->type_name("GLOB");
    app.add_option("--exclude", o.exclude, "skip paths/keys matching this glob (repeatable)")->type_name("GLOB");
    app.add_option("--endpoint-url", o.endpoint_url,
                   "S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS itself)")
        ->type_name("URL");
    app.add_option("--region", o.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1)")
        ->type_name("REGION");
    app.add_option("--profile", o.profile, "profile of the shared AWS config/credentials files")->type_name("NAME");
    t.choices(app.add_option("--addressing", o.addressing,
                             "S3 addressing: virtual-hosted on AWS and path-style elsewhere (auto), path or virtual")
                  ->type_name("STYLE")
                  ->capture_default_str(),
              {"auto", "path", "virtual"});
    app.add_option("--since", o.since,
                   "only objects from date partitions (.../YYYY/MM/DD[/HH]/) at or after this time: a duration "
                   "before now (2h, 7d) or an RFC 3339 time")
        ->type_name("TIME");
    app.add_option("--until", o.until, "only objects from date partitions before this time (as --since)")
        ->type_name("TIME");
    app.add_option("-j,--jobs", o.jobs, "concurrent S3 downloads (output order stays the same)")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1u, 256u));
    app.add_flag("--unordered", o.unordered,
                 "with --jobs: write objects as they finish instead of in key order (each object still contiguous)");
    app.add_option("--state", o.state,
                   "remember finished S3 objects (key and ETag) in FILE; later runs read only new or changed ones")
        ->type_name("FILE");
    app.add_option("--retries", o.retries, "retries of a failed S3 or SQS request (5xx, SlowDown, resets, truncated bodies)")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--list-page-size", o.list_page_size, "keys per ListObjectsV2 page (1-1000)")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1000u));
    app.add_option("--sqs-queue", o.sqs_queue,
                   "consume S3 event notifications (raw, SNS-wrapped or EventBridge) from this SQS queue URL")
        ->type_name("URL");
    app.add_option("--sqs-wait", o.sqs_wait, "long-poll wait of each SQS receive, in seconds (0-20)")
        ->type_name("SECONDS")
        ->capture_default_str()
        ->check(CLI::Range(0u, 20u));
    app.add_option("--sqs-visibility", o.sqs_visibility,
                   "visibility timeout of received messages, in seconds; extended while their objects are read")
        ->type_name("SECONDS")
        ->capture_default_str()
        ->check(CLI::Range(1u, 43200u));
    app.add_flag("--sqs-exit-when-empty", o.sqs_exit_when_empty, "stop when a receive returns no messages");
    app.add_option("--sqs-max-messages", o.sqs_max_messages, "stop after this many messages (0: no limit)")
        ->type_name("N")
        ->capture_default_str();
}

namespace {

bool glob_match(const std::vector<std::string>& globs, const std::string& path) {
    for (const auto& g : globs)
        if (::fnmatch(g.c_str(), path.c_str(), 0) == 0) return true;
    return false;
}

bool selected(const options& o, const std::string& rel) {
    if (!o.include.empty() && !glob_match(o.include, rel)) return false;
    if (glob_match(o.exclude, rel)) return false;
    return true;
}

bool is_digest_name(const std::string& path) { return path.find("CloudTrail-Digest") != std::string::npos; }

std::string file_uri(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) return std::string("file://") + buf;
    return "file://" + path;
}

struct item {
    std::string path;  // "-" for stdin
    bool digest = false;
};

}  // namespace

exit_code run(cli::tool& t, const options& o) {
    if (!o.sqs_queue.empty()) {
        if (!o.sources.empty()) {
            t.error("--sqs-queue takes no SOURCE arguments");
            return exit_code::usage;
        }
        emitter em(t, o.annotate);
        return run_sqs(t, o, em);
    }
    std::vector<std::string> sources = o.sources.empty() ? std::vector<std::string>{"-"} : o.sources;
    std::vector<std::string> s3_sources;
    std::erase_if(sources, [&](const std::string& s) {
        if (s.rfind("s3://", 0) != 0) return false;
        s3_sources.push_back(s);
        return true;
    });
    exit_code s3_result = exit_code::ok;
    if (!s3_sources.empty()) {
        emitter em(t, o.annotate);
        s3_result = run_s3(t, o, em, s3_sources);
        if (sources.empty() || s3_result == exit_code::usage || s3_result == exit_code::runtime ||
            s3_result == exit_code::interrupted)
            return s3_result;
    }
    // Expand folders into their files, recursively and sorted.
    std::vector<item> items;
    size_t missing = 0;
    exit_code result = exit_code::ok;
    for (const auto& s : sources) {
        if (s == "-") {
            items.push_back({"-", false});
            continue;
        }
        std::error_code ec;
        auto st = fs::status(s, ec);
        if (ec || !fs::exists(st)) {
            ++missing;
            std::string msg = fmt::format("cannot open: {} ({})", s, ec ? ec.message() : "No such file or directory");
            t.error(msg);
            ++t.count().in;
            t.reject(msg, s, 0, {});
            continue;
        }
        if (fs::is_directory(st)) {
            std::vector<std::string> files;
            fs::recursive_directory_iterator it(s, fs::directory_options::skip_permission_denied, ec), end;
            for (; !ec && it != end; it.increment(ec)) {
                if (!it->is_regular_file(ec)) continue;
                std::string p = it->path().string();
                std::string rel = fs::relative(it->path(), s, ec).string();
                if (!selected(o, rel)) continue;
                files.push_back(std::move(p));
            }
            if (ec) {
                std::string msg = fmt::format("cannot list: {} ({})", s, ec.message());
                t.error(msg);
                ++t.count().in;
                t.reject(msg, s, 0, {});
            }
            std::sort(files.begin(), files.end());
            for (auto& f : files) items.push_back({f, is_digest_name(f)});
        } else {
            if (!selected(o, s)) continue;
            items.push_back({s, is_digest_name(s)});
        }
    }
    if (missing == sources.size()) return exit_code::runtime;

    emitter em(t, o.annotate);
    for (const auto& it : items) {
        if (interrupted()) break;
        if (it.digest) {
            ++t.count().in;
            ++t.count().filtered;
            t.debug(fmt::format("{}: CloudTrail digest file skipped", it.path));
            continue;
        }
        std::string name = it.path == "-" ? "stdin" : it.path;
        em.begin(name, it.path == "-" ? "stdin" : file_uri(it.path));
        sniffer sn(em, t.common().max_record_bytes);
        io::auto_decoder dec(sn);
        auto r = cli::pump_path(it.path, dec);
        if (!r) {
            // The records read before the failure are out; the failure itself is dead-lettered.
            ++t.count().in;
            t.reject(r.err().message, name, 0, {});
            if (r.err().code != exit_code::rejected) t.error(r.err().message);
            continue;
        }
        t.count().bytes_in += *r;
        t.info(fmt::format("{}: {} records", name, em.records()));
    }
    (void)result;
    return s3_result;
}

}  // namespace sds::fetch
