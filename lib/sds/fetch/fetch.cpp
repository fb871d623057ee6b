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
    std::vector<std::string> sources = o.sources.empty() ? std::vector<std::string>{"-"} : o.sources;
    for (const auto& s : sources) {
        if (s.rfind("s3://", 0) == 0) {
            t.error(fmt::format("S3 sources are not available in this build: {}", s));
            return exit_code::usage;
        }
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
    return exit_code::ok;
}

}  // namespace sds::fetch
