#include "sds/fetch/s3_source.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "sds/aws/config_file.hpp"
#include "sds/core/signals.hpp"
#include "sds/s3/listing.hpp"
#include "sds/s3/state.hpp"

namespace sds::fetch {

namespace {
constexpr size_t push_block = 256 << 10;
}

object_reader::object_reader(cli::tool& t, emitter& em, const std::string& uri)
    : t_(t), em_(em), uri_(uri), sn_(em, t.common().max_record_bytes), dec_(sn_) {
    em_.begin(uri, uri);
    pending_.reserve(push_block);
}

bool object_reader::flush_pending() {
    if (pending_.empty() || !failed_.ok()) return failed_.ok();
    auto st = dec_.consume(pending_.view());
    pending_.clear();
    if (!st) failed_ = st;
    return failed_.ok();
}

bool object_reader::push(std::string_view chunk) noexcept {
    if (!failed_.ok() || thrown_) return false;
    try {
        t_.count().bytes_in += chunk.size();
        pending_.append(chunk);  // consumers need padding after the chunk: copy
        if (pending_.size() >= push_block) return flush_pending();
        return true;
    } catch (...) {
        thrown_ = std::current_exception();
        return false;
    }
}

exit_code object_reader::finish() {
    if (thrown_) std::rethrow_exception(thrown_);
    if (flush_pending()) {
        auto st = dec_.finish();
        if (!st) failed_ = st;
    }
    if (failed_.ok()) return exit_code::ok;
    // The records before the damage are out; the object's failure is dead-lettered with its key.
    ++t_.count().in;
    t_.reject(failed_.err().message, uri_, 0, {});
    t_.warn(fmt::format("{}: {}", uri_, failed_.err().message));
    return exit_code::rejected;
}

expected<s3::config> s3_config(const options& o) {
    s3::config cfg;
    if (o.addressing == "path")
        cfg.style = s3::addressing::path;
    else if (o.addressing == "virtual")
        cfg.style = s3::addressing::virtual_;
    else if (o.addressing == "auto")
        cfg.style = s3::addressing::auto_;
    else
        return make_error(exit_code::usage, fmt::format("invalid --addressing: {} (want auto, path or virtual)", o.addressing));
    cfg.endpoint = o.endpoint_url;
    if (cfg.endpoint.empty()) {
        for (const char* var : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
            std::string v = aws::env_or_empty(var);
            if (!v.empty()) {
                cfg.endpoint = v;
                break;
            }
        }
    }
    if (!cfg.endpoint.empty()) {
        auto u = net::parse_url(cfg.endpoint);
        if (!u) return make_error(exit_code::usage, fmt::format("invalid --endpoint-url: {} ({})", cfg.endpoint, u.err().message));
    }
    cfg.region = aws::resolve_region(o.region, o.profile);
    cfg.max_attempts = int(o.retries) + 1;
    cfg.max_keys = o.list_page_size;
    aws::chain_options co;
    co.profile = o.profile;
    co.region = cfg.region;
    auto prov = aws::credentials_provider::make_default(co);
    if (!prov) return make_error(exit_code::runtime, prov.err().message);
    cfg.creds = *prov;
    return cfg;
}

namespace {

bool glob_match(const std::vector<std::string>& globs, const std::string& key) {
    for (const auto& g : globs)
        if (::fnmatch(g.c_str(), key.c_str(), 0) == 0) return true;
    return false;
}

// Raw bytes of one object, in memory up to a limit, then in an unnamed temporary file.
class spill {
public:
    static constexpr size_t mem_limit = 8 << 20;
    ~spill() {
        if (file_) std::fclose(file_);
    }
    bool append(std::string_view c) {
        if (!file_ && mem_.size() + c.size() <= mem_limit) {
            mem_.append(c);
            return true;
        }
        if (!file_) {
            file_ = std::tmpfile();
            if (!file_) return false;
            if (!mem_.empty() && std::fwrite(mem_.data(), 1, mem_.size(), file_) != mem_.size()) return false;
            std::string().swap(mem_);
        }
        return std::fwrite(c.data(), 1, c.size(), file_) == c.size();
    }
    // Replays the bytes into `fn` (false from fn stops).
    bool replay(const std::function<bool(std::string_view)>& fn) {
        if (!file_) return fn(mem_);
        std::fflush(file_);
        std::rewind(file_);
        std::string block(1 << 20, '\0');
        size_t n;
        while ((n = std::fread(block.data(), 1, block.size(), file_)) > 0)
            if (!fn(std::string_view(block.data(), n))) return false;
        return !std::ferror(file_);
    }

private:
    std::string mem_;
    std::FILE* file_ = nullptr;
};

// fsyncs the output file (stdout or -o) when it is a regular file; no-op for pipes/terminals.
class output_syncer {
public:
    explicit output_syncer(const std::string& output) {
        if (output.empty()) return;
        if (output == "-") {
            fd_ = 1;
        } else {
            fd_ = ::open(output.c_str(), O_WRONLY | O_CLOEXEC);
            owned_ = fd_ >= 0;
        }
        struct stat st{};
        if (fd_ >= 0 && (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode))) {
            if (owned_) ::close(fd_);
            fd_ = -1;
            owned_ = false;
        }
    }
    ~output_syncer() {
        if (owned_) ::close(fd_);
    }
    output_syncer(const output_syncer&) = delete;
    output_syncer& operator=(const output_syncer&) = delete;
    void sync() {
        if (fd_ >= 0) ::fsync(fd_);
    }

private:
    int fd_ = -1;
    bool owned_ = false;
};

struct slot {
    spill data;
    bool done = false;
    std::optional<error> err;
};

// Downloads objects on `jobs` threads, each with its own S3 client, at most `window` objects
// ahead of the consumer; hands them back in key order (or completion order).
class downloader {
public:
    downloader(const std::vector<s3::object>& objs, const s3::config& cfg, unsigned jobs, bool unordered)
        : objs_(objs), unordered_(unordered), window_(size_t(jobs) * 2), slots_(objs.size()) {
        for (unsigned i = 0; i < jobs; ++i) threads_.emplace_back([this, cfg] { work(cfg); });
    }
    ~downloader() {
        {
            std::lock_guard lk(m_);
            stop_ = true;
        }
        abort_ = true;
        cv_.notify_all();
        for (auto& th : threads_) th.join();
    }
    // The next finished object's index (SIZE_MAX when all were taken).
    size_t take() {
        std::unique_lock lk(m_);
        if (taken_ >= objs_.size()) return SIZE_MAX;
        size_t i;
        if (unordered_) {
            cv_.wait(lk, [&] { return !completed_.empty(); });
            i = completed_.front();
            completed_.pop_front();
        } else {
            i = taken_;
            cv_.wait(lk, [&] { return slots_[i] && slots_[i]->done; });
        }
        ++taken_;
        return i;
    }
    slot& at(size_t i) { return *slots_[i]; }
    void release(size_t i) {
        {
            std::lock_guard lk(m_);
            slots_[i].reset();
            ++released_;
        }
        cv_.notify_all();
    }
    uint64_t retries() const { return retries_; }

private:
    void work(s3::config cfg) {
        s3::client c(std::move(cfg));
        for (;;) {
            size_t i;
            slot* s;
            {
                std::unique_lock lk(m_);
                cv_.wait(lk, [&] { return stop_ || next_ >= objs_.size() || next_ - released_ < window_; });
                if (stop_ || next_ >= objs_.size()) break;
                i = next_++;
                slots_[i] = std::make_unique<slot>();
                s = slots_[i].get();
            }
            auto r = c.get(objs_[i], [&](std::string_view chunk) {
                if (interrupted() || abort_.load(std::memory_order_relaxed)) return false;
                return s->data.append(chunk);
            });
            std::lock_guard lk(m_);
            if (!r) s->err = r.err();
            s->done = true;
            completed_.push_back(i);
            cv_.notify_all();
        }
        std::lock_guard lk(m_);
        retries_ += c.retries();
    }

    const std::vector<s3::object>& objs_;
    bool unordered_;
    size_t window_;
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<slot>> slots_;
    std::deque<size_t> completed_;
    size_t next_ = 0, taken_ = 0, released_ = 0;
    bool stop_ = false;
    std::atomic<bool> abort_{false};
    uint64_t retries_ = 0;
    std::vector<std::thread> threads_;
};

}  // namespace

exit_code run_s3(cli::tool& t, const options& o, emitter& em, const std::vector<std::string>& uris) {
    auto cfg = s3_config(o);
    if (!cfg) {
        t.error(cfg.err().message);
        return cfg.err().code;
    }
    s3::time_range range;
    const time::millis now = time::now();
    if (!o.since.empty()) {
        auto v = s3::parse_time_arg(o.since, now);
        if (!v) return t.error(v.err().message), exit_code::usage;
        range.since = *v;
    }
    if (!o.until.empty()) {
        auto v = s3::parse_time_arg(o.until, now);
        if (!v) return t.error(v.err().message), exit_code::usage;
        range.until = *v;
    }
    s3::state_file state;
    if (!o.state.empty()) {
        if (auto st = state.open(o.state); !st) {
            t.error(st.err().message);
            return st.err().code;
        }
    }
    const bool flush_each = state.enabled();
    s3::client c(*cfg);
    exit_code result = exit_code::ok;
    uint64_t skipped = 0, listed = 0;

    // List everything first (sorted by key per source), then read.
    std::vector<s3::object> todo;
    for (const auto& uri : uris) {
        auto bp = s3::parse_s3_uri(uri);
        if (!bp) return t.error(bp.err().message), exit_code::usage;
        s3::listing_request lr{bp->first, bp->second, range};
        auto objs = s3::list_objects(c, lr);
        if (!objs) {
            t.error(objs.err().message);
            return objs.err().code;
        }
        t.info(fmt::format("{}: {} objects listed ({} LIST requests so far)", uri, objs->size(), c.list_requests()));
        for (auto& ob : *objs) {
            ++listed;
            if (ob.key.empty() || ob.key.back() == '/') continue;  // folder markers
            if (!o.include.empty() && !glob_match(o.include, ob.key)) continue;
            if (glob_match(o.exclude, ob.key)) continue;
            if (ob.key.find("CloudTrail-Digest") != std::string::npos) {
                ++t.count().in;
                ++t.count().filtered;
                continue;
            }
            if (state.done(ob.uri(), ob.etag)) {
                ++skipped;
                continue;
            }
            todo.push_back(std::move(ob));
        }
    }
    t.add_stat("s3_list_requests", std::to_string(c.list_requests()));
    t.add_stat("s3_objects", std::to_string(todo.size()));
    if (state.enabled()) t.add_stat("s3_skipped", std::to_string(skipped));

    // Before the state claims objects done, their records must be on disk when the output is
    // a file (a crash of the machine, not only of the process): fsync it first.
    output_syncer sync(state.enabled() ? t.common().output : std::string());
    auto save_state = [&]() -> status {
        sync.sync();
        return state.save();
    };
    auto finished = [&](const s3::object& ob) -> status {
        if (flush_each) t.out().flush();
        state.mark(ob.uri(), ob.etag);
        return state.due() ? save_state() : status::success();
    };

    uint64_t retries = 0;
    if (o.jobs <= 1) {
        for (const auto& ob : todo) {
            if (interrupted()) break;
            object_reader rd(t, em, ob.uri());
            auto r = c.get(ob, [&](std::string_view chunk) { return !interrupted() && rd.push(chunk); });
            exit_code oc = rd.finish();
            if (!r) {
                if (interrupted()) break;
                if (oc != exit_code::rejected) {  // not a decode failure: the transfer failed
                    t.error(r.err().message);
                    result = worst(result, r.err().code);
                    break;
                }
            }
            result = worst(result, oc);
            if (auto st = finished(ob); !st) return t.error(st.err().message), exit_code::runtime;
        }
        retries = c.retries();
    } else {
        downloader dl(todo, *cfg, o.jobs, o.unordered);
        for (size_t i; (i = dl.take()) != SIZE_MAX;) {
            if (interrupted()) break;
            slot& s = dl.at(i);
            if (s.err) {
                if (interrupted()) break;
                t.error(s.err->message);
                result = worst(result, s.err->code);
                break;
            }
            object_reader rd(t, em, todo[i].uri());
            if (!s.data.replay([&](std::string_view chunk) { return rd.push(chunk); }) && !interrupted()) {
                // push() refused (decode failure, reported by finish) or the spill file failed.
            }
            result = worst(result, rd.finish());
            dl.release(i);
            if (auto st = finished(todo[i]); !st) return t.error(st.err().message), exit_code::runtime;
        }
        retries = dl.retries();
    }
    t.add_stat("s3_retries", std::to_string(retries));
    t.out().flush();
    if (auto st = save_state(); !st) {
        t.error(st.err().message);
        result = worst(result, exit_code::runtime);
    }
    (void)listed;
    return result;
}

}  // namespace sds::fetch
