#include "sds/normalize/parallel.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sds/cli/input.hpp"
#include "sds/core/signals.hpp"
#include "sds/io/buffer.hpp"
#include "sds/io/line_splitter.hpp"
#include "sds/io/ndjson.hpp"
#include "sds/io/stream.hpp"

namespace sds::normalize {

namespace {

// Input bytes per batch: large enough that handing batches around costs nothing next to the
// work, small enough that the batches in flight stay a few MiB.
constexpr size_t batch_bytes = 1 << 20;

struct line_ref {
    size_t off = 0, len = 0;
    uint64_t number = 0;
    uint64_t oversize = 0;  // > 0: a line over --max-record-bytes of this size; the text is its prefix
};

struct reject_ref {
    std::string reason;
    uint64_t line = 0;
    size_t off = 0, len = 0;
};

struct batch {
    // Filled by the reader.
    std::shared_ptr<const std::string> source;
    uint64_t source_id = 0;
    io::padded_buffer text;  // the lines, '\n' after each; padded for simdjson
    std::vector<line_ref> lines;
    normalizer::stream_state start;
    // Filled by the worker.
    std::string out;
    std::vector<reject_ref> rejects;
    size_t n_rejects = 0;
    uint64_t in = 0, written = 0, filtered = 0;
    normalizer::stream_state end;
    std::exception_ptr error;
    bool done = false;  // guarded by the pool's mutex

    void reset() {
        text.clear();
        lines.clear();
        out.clear();
        n_rejects = 0;
        in = written = filtered = 0;
        error = nullptr;
        done = false;
    }
    std::string_view view(size_t off, size_t len) const { return {text.data() + off, len}; }
    void add_reject(std::string reason, uint64_t line, size_t off, size_t len) {
        if (n_rejects == rejects.size()) rejects.emplace_back();
        reject_ref& r = rejects[n_rejects++];
        r.reason = std::move(reason);
        r.line = line;
        r.off = off;
        r.len = len;
    }
};

// Normalises one batch: what cli::read_records and the single-threaded handler do per line,
// with the outcomes kept in the batch instead of going to the tool.
void work(normalizer& n, simdjson::dom::parser& parser, batch& b) {
    n.set_state(b.start);
    b.out.clear();
    b.n_rejects = 0;
    b.in = b.written = b.filtered = 0;
    for (const line_ref& l : b.lines) {
        std::string_view line = b.view(l.off, l.len);
        if (l.oversize) {
            ++b.in;
            b.add_reject(fmt::format("record of {} bytes exceeds --max-record-bytes (first bytes kept)", l.oversize),
                         l.number, l.off, l.len);
            continue;
        }
        size_t i = 0;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == line.size()) continue;  // blank: skipped, not counted
        ++b.in;
        simdjson::dom::element doc;
        if (auto err = parser.parse(line.data(), line.size(), false).get(doc)) {
            b.add_reject(io::json_error_reason(err), l.number, l.off, l.len);
            continue;
        }
        formats::object rec;
        if (doc.get_object().get(rec)) {
            b.add_reject("not a JSON object", l.number, l.off, l.len);
            continue;
        }
        const size_t mark = b.out.size();
        auto st = n.process(line, rec, b.out);
        if (!st) {
            b.out.resize(mark);
            b.add_reject(st.err().message, l.number, l.off, l.len);
            continue;
        }
        if (n.was_header()) {
            ++b.filtered;
            continue;
        }
        b.in += n.extra_outputs();
        b.written += 1 + n.extra_outputs();
    }
    b.end = n.state();
}

class pool {
public:
    pool(const options& o, unsigned threads) {
        for (unsigned i = 0; i < threads; ++i) {
            auto n = normalizer::make(o);
            if (!n) throw std::runtime_error(n.err().message);  // make() was checked by the caller
            norms_.push_back(std::move(*n));
        }
        for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this, i] { loop(*norms_[i]); });
    }
    ~pool() {
        {
            std::lock_guard lk(m_);
            stop_ = true;
        }
        work_cv_.notify_all();
        for (auto& w : workers_) w.join();
    }
    void submit(batch* b) {
        {
            std::lock_guard lk(m_);
            queue_.push_back(b);
        }
        work_cv_.notify_one();
    }
    bool done(batch* b) {
        std::lock_guard lk(m_);
        return b->done;
    }
    void wait(batch* b) {
        std::unique_lock lk(m_);
        done_cv_.wait(lk, [&] { return b->done; });
    }

private:
    void loop(normalizer& n) {
        simdjson::dom::parser parser;
        while (true) {
            batch* b;
            {
                std::unique_lock lk(m_);
                work_cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
                if (queue_.empty()) return;
                b = queue_.front();
                queue_.pop_front();
            }
            try {
                work(n, parser, *b);
            } catch (...) {
                b->error = std::current_exception();
            }
            {
                std::lock_guard lk(m_);
                b->done = true;
            }
            done_cv_.notify_all();
        }
    }

    std::vector<std::unique_ptr<normalizer>> norms_;
    std::vector<std::thread> workers_;
    std::mutex m_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<batch*> queue_;
    bool stop_ = false;
};

// Cuts the line stream into batches, hands them to the pool and writes finished batches in
// order.
class driver final : public io::line_handler {
public:
    driver(cli::tool& t, const options& o, unsigned threads)
        : t_(t), pool_(o, threads), max_in_flight_(2 * threads + 2) {
        auto n = normalizer::make(o);
        if (!n) throw std::runtime_error(n.err().message);
        main_ = std::move(*n);
    }
    ~driver() {
        // Let the workers finish what they hold before the batches go away (exceptions).
        for (batch* b : pending_) {
            pool_.wait(b);
            delete b;
        }
        delete cur_;
    }

    void begin_source(const std::string& name) {
        if (!source_ || *source_ != name) {
            // A new stream: a VPC Flow header of the last one does not apply (same rule as
            // the single-threaded run).
            source_ = std::make_shared<const std::string>(name);
            ++source_id_;
            predicted_ = {};
        }
    }

    status on_line(std::string_view line, uint64_t number) override {
        add(line, number, 0);
        return {};
    }
    status on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) override {
        add(prefix, number, bytes);
        return {};
    }

    // The input ended: its partial batch goes (a batch holds lines of one input only).
    void end_source() { submit(); }

    // Sends the partial batch and writes everything still in flight.
    void drain() {
        submit();
        while (!pending_.empty()) {
            pool_.wait(pending_.front());
            commit_front();
        }
    }

private:
    void add(std::string_view line, uint64_t number, uint64_t oversize) {
        if (!cur_) cur_ = acquire();
        line_ref l;
        l.off = cur_->text.size();
        l.len = line.size();
        l.number = number;
        l.oversize = oversize;
        cur_->text.append(line);
        cur_->text.append("\n", 1);
        cur_->lines.push_back(l);
        if (cur_->text.size() >= batch_bytes) submit();
    }

    batch* acquire() {
        std::unique_ptr<batch> b;
        if (!free_.empty()) {
            b = std::move(free_.back());
            free_.pop_back();
        } else {
            b = std::make_unique<batch>();
        }
        b->reset();
        return b.release();
    }

    void submit() {
        if (!cur_) return;
        batch* b = cur_;
        cur_ = nullptr;
        b->source = source_;
        b->source_id = source_id_;
        b->start = predicted_;
        pending_.push_back(b);
        pool_.submit(b);
        // Write what is finished; keep the batches in flight bounded (memory stays flat).
        while (!pending_.empty() && (pending_.size() >= max_in_flight_ || pool_.done(pending_.front()))) {
            pool_.wait(pending_.front());
            commit_front();
        }
    }

    void commit_front() {
        std::unique_ptr<batch> b(pending_.front());
        pending_.pop_front();
        if (b->error) std::rethrow_exception(b->error);
        // The layout this batch had to start with: the end of the previous batch of its stream.
        normalizer::stream_state want = b->source_id == last_source_id_ ? last_end_ : normalizer::stream_state{};
        if (!(b->start == want)) {
            b->start = want;
            work(*main_, main_parser_, *b);
        }
        if (!(b->end == b->start) && b->source_id == source_id_) predicted_ = b->end;
        last_end_ = b->end;
        last_source_id_ = b->source_id;

        auto& c = t_.count();
        for (size_t i = 0; i < b->n_rejects; ++i) {
            const reject_ref& r = b->rejects[i];
            t_.reject(r.reason, *b->source, r.line, b->view(r.off, r.len));
        }
        c.in += b->in;
        c.out += b->written;
        c.filtered += b->filtered;
        for (uint64_t i = 0; i < b->in; ++i) t_.tick();
        if (!b->out.empty()) t_.out().write_records(b->out);
        free_.push_back(std::move(b));
    }

    cli::tool& t_;
    pool pool_;
    size_t max_in_flight_;
    std::unique_ptr<normalizer> main_;  // re-runs a batch whose starting layout was guessed wrong
    simdjson::dom::parser main_parser_;
    std::shared_ptr<const std::string> source_;
    uint64_t source_id_ = 0;
    normalizer::stream_state predicted_{};
    uint64_t last_source_id_ = 0;
    normalizer::stream_state last_end_{};
    batch* cur_ = nullptr;
    std::deque<batch*> pending_;
    std::vector<std::unique_ptr<batch>> free_;
};

}  // namespace

exit_code run_parallel(cli::tool& t, const options& o, unsigned threads) {
    std::vector<std::string> list = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
    driver d(t, o, threads);
    size_t failed_open = 0;
    exit_code result = exit_code::ok;
    for (const auto& path : list) {
        if (interrupted()) break;
        d.begin_source(path == "-" ? "stdin" : path);
        io::line_splitter splitter(d, t.common().max_record_bytes);
        io::auto_decoder decoder(splitter);
        auto r = cli::pump_path(path, decoder);
        d.end_source();
        if (!r) {
            d.drain();  // everything decoded from this input is written before its error is told
            // As cli::read_records does.
            const auto& e = r.err();
            if (e.code == exit_code::rejected) {
                ++t.count().in;
                t.reject(e.message, path, splitter.lines(), {});
            } else if (e.code == exit_code::runtime && splitter.lines() == 0 && decoder.bytes_out() == 0) {
                ++failed_open;
                t.error(e.message);
                ++t.count().in;
                t.reject(e.message, path, 0, {});
            } else {
                t.error(e.message);
                result = worst(result, e.code);
            }
            continue;
        }
        t.count().bytes_in += *r;
    }
    d.drain();
    if (failed_open == list.size()) result = worst(result, exit_code::runtime);
    return result;
}

}  // namespace sds::normalize
