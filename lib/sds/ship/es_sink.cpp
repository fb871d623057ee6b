// The Elasticsearch/OpenSearch sink: batches built on the input thread, sent by one sender
// thread that keeps up to --concurrency _bulk requests in flight on a libcurl multi handle
// (kept-alive connections), with retries, splitting and per-item outcomes.
#include <curl/curl.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "sds/aws/credentials.hpp"
#include "sds/aws/sigv4.hpp"
#include "sds/net/http.hpp"
#include "sds/ship/bulk.hpp"
#include "sds/ship/es_setup.hpp"
#include "sds/ship/sink.hpp"

namespace sds::ship {

namespace {

using clock = std::chrono::steady_clock;

struct item {
    uint64_t action_off = 0;
    uint64_t doc_off = 0;
    uint64_t doc_end = 0;  // excluding the newline
    uint64_t line = 0;
    uint32_t source = 0;
};

struct batch {
    std::string body;
    std::vector<item> items;
    int attempts = 0;
    clock::time_point first_try{};
    clock::time_point due{};
    std::string last_error;
};

struct dead {
    std::string reason;
    uint32_t source = 0;
    uint64_t line = 0;
    std::string record;
};

struct transfer {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    batch b;
    std::string wire;  // gzip body (when compressing)
    std::string response;
    std::string url;
    char errbuf[CURL_ERROR_SIZE] = {};
};

std::string_view doc_text(const batch& b, const item& it) {
    return std::string_view(b.body).substr(it.doc_off, it.doc_end - it.doc_off);
}

// A new batch holding `items` of `from`.
batch subset(const batch& from, const std::vector<item>& items) {
    batch b;
    for (const auto& it : items) {
        item n = it;
        n.action_off = b.body.size();
        b.body.append(from.body, it.action_off, it.doc_off - it.action_off);
        n.doc_off = b.body.size();
        b.body.append(from.body, it.doc_off, it.doc_end - it.doc_off);
        n.doc_end = b.body.size();
        b.body.push_back('\n');
        b.items.push_back(n);
    }
    return b;
}

class es_sink final : public sink {
public:
    es_sink(cli::tool& t, const options& o, index_template tmpl, std::vector<std::string> urls)
        : t_(t), o_(o), tmpl_(std::move(tmpl)), urls_(std::move(urls)) {
        op_ = o.op == "index" ? op_type::index : op_type::create;
        mode_ = o.no_id ? id_mode::none : (o.id_field.empty() ? id_mode::derived : id_mode::field);
        multi_ = curl_multi_init();
        curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(o.concurrency));
        rng_.seed(std::random_device{}());
    }
    ~es_sink() override {
        if (thread_.joinable()) {
            {
                std::lock_guard lk(m_);
                closed_ = true;
            }
            curl_multi_wakeup(multi_);
            thread_.join();
        }
        for (CURL* e : idle_) curl_easy_cleanup(e);
        curl_multi_cleanup(multi_);
    }

    status init() {
        if (!o_.user.empty()) {
            std::string pass;
            if (!o_.password_file.empty()) {
                auto p = read_secret_file(o_.password_file);
                if (!p) return p.err();
                pass = *p;
            } else if (const char* e = std::getenv("SDS_ES_PASSWORD"); e && *e) {
                pass = e;
            } else {
                return make_error(exit_code::usage, "--user needs --password-file or SDS_ES_PASSWORD");
            }
            auth_header_ = "Authorization: Basic " + base64(o_.user + ":" + pass);
        } else if (!o_.api_key_file.empty()) {
            auto k = read_secret_file(o_.api_key_file);
            if (!k) return k.err();
            auth_header_ = "Authorization: ApiKey " + (k->find(':') != std::string::npos ? base64(*k) : *k);
        }
        if (!o_.aws_sigv4.empty()) {
            region_ = o_.region;
            if (region_.empty())
                if (const char* r = std::getenv("AWS_REGION")) region_ = r;
            if (region_.empty())
                if (const char* r = std::getenv("AWS_DEFAULT_REGION")) region_ = r;
            if (region_.empty()) return make_error(exit_code::usage, "--aws-sigv4 needs --region or AWS_REGION");
            aws::chain_options co;
            co.profile = o_.profile;
            co.region = region_;
            auto p = aws::credentials_provider::make_default(co);
            if (!p) return p.err();
            creds_ = *p;
        }
        es_connection conn{urls_, auth_header_, o_.cacert, o_.insecure, o_.timeout, o_.aws_sigv4, region_, creds_};
        if (auto s = check_cluster(t_, conn); !s) return s;
        if (o_.setup)
            if (auto s = install_templates(t_, conn, o_); !s) return s;
        thread_ = std::thread([this] { loop(); });
        return {};
    }

    status add(const record_ref& r) override {
        drain();
        if (fatal_.load()) {
            t_.reject(fmt::format("not delivered: {}", fatal_msg()), r.source, r.line, r.text);
            fatal_reported_ = true;
            return make_error(fatal_code_, fatal_msg());
        }
        if (auto why = tmpl_.render(r.doc, index_)) {
            t_.reject(*why, r.source, r.line, r.text);
            return {};
        }
        bool has_id = document_id(r.doc, r.text, mode_, o_.id_field, ids_);
        if (has_id && ids_.id.size() > 512) {
            t_.reject(fmt::format("_id longer than 512 bytes from {}", o_.id_field), r.source, r.line, r.text);
            return {};
        }
        std::unique_lock lk(m_);
        if (fatal_.load()) {
            std::string msg = fatal_msg_;
            lk.unlock();
            t_.reject(fmt::format("not delivered: {}", msg), r.source, r.line, r.text);
            fatal_reported_ = true;
            return make_error(fatal_code_, msg);
        }
        if (r.source != last_source_text_ || sources_.empty()) {
            sources_.emplace_back(r.source);
            last_source_text_ = r.source;
        }
        if (current_.items.empty()) current_since_ = clock::now();
        item it;
        it.action_off = current_.body.size();
        append_action(current_.body, op_, index_, has_id ? &ids_.id : nullptr);
        it.doc_off = current_.body.size();
        current_.body.append(r.text);
        it.doc_end = current_.body.size();
        current_.body.push_back('\n');
        it.line = r.line;
        it.source = static_cast<uint32_t>(sources_.size() - 1);
        current_.items.push_back(it);
        if (current_.body.size() >= o_.batch_bytes || current_.items.size() >= o_.batch_docs) {
            space_.wait(lk, [&] { return queue_.size() < static_cast<size_t>(o_.concurrency) || fatal_.load(); });
            if (!fatal_.load()) {
                queue_.push_back(std::move(current_));
                current_ = fresh_batch();
                lk.unlock();
                curl_multi_wakeup(multi_);
            }
        }
        return {};
    }

    exit_code finish() override {
        {
            std::lock_guard lk(m_);
            if (!current_.items.empty() && !fatal_.load()) {
                queue_.push_back(std::move(current_));
                current_ = batch{};
            }
            closed_ = true;
        }
        curl_multi_wakeup(multi_);
        if (thread_.joinable()) thread_.join();
        drain();
        if (!current_.items.empty()) {  // only after a fatal stop
            for (const auto& it : current_.items)
                t_.reject("not delivered: " + fatal_msg_, sources_[it.source], it.line, doc_text(current_, it));
            current_ = batch{};
        }
        t_.count().bytes_out += wire_bytes_.load();
        t_.add_stat("requests", std::to_string(requests_));
        t_.add_stat("retries", std::to_string(retries_));
        t_.add_stat("item_retries", std::to_string(item_retries_));
        t_.add_stat("already_present", std::to_string(already_total_));
        t_.add_stat("splits", std::to_string(splits_));
        if (fatal_.load()) {
            if (!fatal_reported_) t_.error(fatal_msg());
            return fatal_code_;
        }
        return exit_code::ok;
    }

private:
    std::string fatal_msg() {
        std::lock_guard lk(m_);
        return fatal_msg_;
    }

    // A batch to fill, with the buffers of one already delivered when there is one (so the
    // 5 MiB bodies are not allocated, page-faulted and freed for every request). Under m_.
    batch fresh_batch() {
        if (spare_.empty()) return batch{};
        batch b = std::move(spare_.back());
        spare_.pop_back();
        b.body.clear();
        b.items.clear();
        b.attempts = 0;
        b.first_try = b.due = clock::time_point{};
        b.last_error.clear();
        return b;
    }

    // Input thread: hands the sender's outcomes to the tool.
    void drain() {
        std::vector<dead> d;
        uint64_t delivered = 0;
        {
            std::lock_guard lk(m_);
            if (dead_.empty() && delivered_ == 0) return;
            d.swap(dead_);
            delivered = delivered_;
            delivered_ = 0;
        }
        t_.count().out += delivered;
        for (const auto& x : d) t_.reject(x.reason, sources_[x.source], x.line, x.record);
    }

    // ---- sender thread ----

    void set_fatal(exit_code code, std::string msg) {
        std::lock_guard lk(m_);
        if (fatal_.load()) return;
        fatal_code_ = code;
        fatal_msg_ = std::move(msg);
        fatal_.store(true);
        space_.notify_all();
    }

    void dead_letter(const batch& b, const std::string& reason) {
        std::lock_guard lk(m_);
        for (const auto& it : b.items) dead_.push_back({reason, it.source, it.line, std::string(doc_text(b, it))});
    }

    void loop() {
        std::vector<batch> starting;
        for (;;) {
            bool done = false;
            auto now = clock::now();
            starting.clear();
            {
                std::lock_guard lk(m_);
                if (!fatal_.load()) {
                    if (!current_.items.empty() && o_.flush_interval > 0 &&
                        now - current_since_ >= std::chrono::duration<double>(o_.flush_interval) &&
                        queue_.size() < static_cast<size_t>(o_.concurrency)) {
                        queue_.push_back(std::move(current_));
                        current_ = fresh_batch();
                    }
                    size_t free = static_cast<size_t>(o_.concurrency) - std::min(inflight_.size(), size_t(o_.concurrency));
                    for (auto itr = retry_.begin(); itr != retry_.end() && starting.size() < free;) {
                        if (itr->due <= now) {
                            starting.push_back(std::move(*itr));
                            itr = retry_.erase(itr);
                        } else {
                            ++itr;
                        }
                    }
                    while (starting.size() < free && !queue_.empty()) {
                        starting.push_back(std::move(queue_.front()));
                        queue_.pop_front();
                    }
                    if (!starting.empty()) space_.notify_all();
                }
                done = fatal_.load() || (closed_ && queue_.empty() && current_.items.empty() && retry_.empty() &&
                                         inflight_.empty() && starting.empty());
            }
            if (fatal_.load()) {
                abandon(starting);
                return;
            }
            if (done) return;
            for (auto& b : starting) start(std::move(b));
            int running = 0;
            curl_multi_perform(multi_, &running);
            bool completed = false;
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
                if (msg->msg != CURLMSG_DONE) continue;
                completed = true;
                complete(msg->easy_handle, msg->data.result);
            }
            if (completed) continue;
            int wait_ms = 100;
            {
                std::lock_guard lk(m_);
                for (const auto& b : retry_) {
                    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(b.due - now).count();
                    wait_ms = static_cast<int>(std::clamp<long long>(ms, 0, wait_ms));
                }
            }
            curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
        }
    }

    // Fatal stop: everything not acknowledged goes to the dead-letter output.
    void abandon(std::vector<batch>& starting) {
        std::string reason;
        {
            std::lock_guard lk(m_);
            reason = "not delivered: " + fatal_msg_;
        }
        for (auto& [easy, tr] : inflight_) {
            curl_multi_remove_handle(multi_, easy);
            curl_slist_free_all(tr->headers);
            idle_.push_back(easy);
            dead_letter(tr->b, reason);
        }
        inflight_.clear();
        for (auto& b : starting) dead_letter(b, reason);
        std::vector<batch> rest;
        {
            std::lock_guard lk(m_);
            for (auto& b : retry_) rest.push_back(std::move(b));
            for (auto& b : queue_) rest.push_back(std::move(b));
            rest.push_back(std::move(current_));
            retry_.clear();
            queue_.clear();
            current_ = batch{};
        }
        for (auto& b : rest) dead_letter(b, reason);
    }

    static size_t on_data(char* p, size_t size, size_t n, void* ud) {
        static_cast<std::string*>(ud)->append(p, size * n);
        return size * n;
    }

    void start(batch b) {
        std::unique_ptr<transfer> tr;
        if (!spare_transfers_.empty()) {
            // Reused, so its response buffer keeps its capacity.
            tr = std::move(spare_transfers_.back());
            spare_transfers_.pop_back();
            tr->response.clear();
            tr->wire.clear();
            tr->headers = nullptr;
            tr->errbuf[0] = 0;
        } else {
            tr = std::make_unique<transfer>();
        }
        tr->b = std::move(b);
        if (tr->b.attempts == 0 && tr->b.first_try == clock::time_point{}) tr->b.first_try = clock::now();
        const std::string& base = urls_[next_url_++ % urls_.size()];
        tr->url = base + "/_bulk";
        std::string q;
        if (!o_.pipeline.empty()) q += "&pipeline=" + net::uri_encode(o_.pipeline);
        if (o_.refresh) q += "&refresh=wait_for";
        if (!q.empty()) tr->url += "?" + q.substr(1);
        std::string_view payload = tr->b.body;
        if (o_.compress) {
            gzip_compress(tr->b.body, tr->wire, 1);
            payload = tr->wire;
        }
        CURL* e;
        if (!idle_.empty()) {
            e = idle_.back();
            idle_.pop_back();
            curl_easy_reset(e);
        } else {
            e = curl_easy_init();
        }
        tr->easy = e;
        auto add = [&](const std::string& h) { tr->headers = curl_slist_append(tr->headers, h.c_str()); };
        add("Content-Type: application/x-ndjson");
        add("Expect:");
        if (o_.compress) add("Content-Encoding: gzip");
        if (!auth_header_.empty()) add(auth_header_);
        if (creds_) {
            net::request req;
            req.method = "POST";
            req.url = tr->url;
            req.body = payload;
            req.headers.push_back({"Content-Type", "application/x-ndjson"});
            if (o_.compress) req.headers.push_back({"Content-Encoding", "gzip"});
            auto c = creds_->get();
            if (!c) {
                set_fatal(exit_code::runtime, c.err().message);
                dead_letter(tr->b, "not delivered: " + c.err().message);
                curl_slist_free_all(tr->headers);
                idle_.push_back(e);
                return;
            }
            aws::sign_options so;
            so.region = region_;
            so.service = o_.aws_sigv4;
            so.content_sha256_header = true;
            aws::sign(req, *c, so);
            for (const auto& h : req.headers)
                if (!net::iequals(h.name, "Content-Type") && !net::iequals(h.name, "Content-Encoding"))
                    add(h.name + ": " + h.value);
        }
        curl_easy_setopt(e, CURLOPT_URL, tr->url.c_str());
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, tr->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &es_sink::on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &tr->response);
        // --compress: gzip both ways (on a LAN or loopback, compressing responses only costs CPU).
        if (o_.compress) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, tr->errbuf);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(o_.timeout * 1000));
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        if (!o_.cacert.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o_.cacert.c_str());
        if (o_.insecure) {
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        curl_multi_add_handle(multi_, e);
        ++requests_;
        wire_bytes_ += payload.size();
        inflight_.emplace(e, std::move(tr));
    }

    void schedule_retry(batch b, std::string why) {
        ++b.attempts;
        auto now = clock::now();
        double elapsed = std::chrono::duration<double>(now - b.first_try).count();
        b.last_error = why;
        if (b.attempts > o_.max_retries || elapsed > o_.retry_max_time) {
            set_fatal(exit_code::runtime, fmt::format("{} (gave up after {} retries in {:.1f} s)", why, b.attempts - 1, elapsed));
            dead_letter(b, "not delivered: " + why);
            return;
        }
        ++retries_;
        std::uniform_real_distribution<double> u(0.0, 1.0);
        double d = backoff_seconds(b.attempts, o_.retry_delay, o_.retry_max_delay, u(rng_));
        b.due = now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(d));
        t_debug_ = why;
        std::lock_guard lk(m_);
        retry_.push_back(std::move(b));
    }

    void complete(CURL* e, CURLcode rc) {
        auto node = inflight_.extract(e);
        curl_multi_remove_handle(multi_, e);
        auto& tr = node.mapped();
        finish_transfer(e, rc, tr);
        if (spare_transfers_.size() < static_cast<size_t>(o_.concurrency)) {
            tr->b = batch{};
            spare_transfers_.push_back(std::move(tr));
        }
    }

    void finish_transfer(CURL* e, CURLcode rc, std::unique_ptr<transfer>& tr) {
        curl_slist_free_all(tr->headers);
        tr->headers = nullptr;
        long status = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        idle_.push_back(e);
        std::string where = net::redact_url(tr->url);
        if (rc != CURLE_OK) {
            std::string why = fmt::format("bulk request failed: {} ({})", where,
                                          tr->errbuf[0] ? tr->errbuf : curl_easy_strerror(rc));
            schedule_retry(std::move(tr->b), std::move(why));
            return;
        }
        switch (classify_request(status)) {
            case request_fate::parse_items: return handle_items(*tr, where);
            case request_fate::retry:
                return schedule_retry(std::move(tr->b), fmt::format("bulk request failed: {} (HTTP {}{})", where, status,
                                                                   short_error(tr->response)));
            case request_fate::split: {
                ++splits_;
                if (tr->b.items.size() == 1) {
                    dead_letter(tr->b, fmt::format("elasticsearch: document too large for the server (HTTP 413)"));
                    return;
                }
                size_t half = tr->b.items.size() / 2;
                std::vector<item> a(tr->b.items.begin(), tr->b.items.begin() + static_cast<long>(half));
                std::vector<item> c(tr->b.items.begin() + static_cast<long>(half), tr->b.items.end());
                batch ba = subset(tr->b, a), bc = subset(tr->b, c);
                ba.first_try = bc.first_try = tr->b.first_try;
                ba.attempts = bc.attempts = tr->b.attempts;
                std::lock_guard lk(m_);
                retry_.push_back(std::move(ba));
                retry_.push_back(std::move(bc));
                return;
            }
            case request_fate::reject_all:
                dead_letter(tr->b, fmt::format("elasticsearch: bulk request refused (HTTP {}{})", status,
                                              short_error(tr->response)));
                return;
            case request_fate::fatal_auth:
                dead_letter(tr->b, fmt::format("not delivered: authentication failed (HTTP {})", status));
                set_fatal(exit_code::runtime, fmt::format("authentication failed: {} (HTTP {}{})", where, status,
                                                          short_error(tr->response)));
                return;
            case request_fate::fatal:
                dead_letter(tr->b, fmt::format("not delivered: HTTP {} from {}", status, where));
                set_fatal(exit_code::runtime, fmt::format("bulk request refused: {} (HTTP {}{})", where, status,
                                                          short_error(tr->response)));
                return;
        }
    }

    static std::string short_error(const std::string& body) {
        if (body.empty()) return {};
        simdjson::dom::parser p;
        simdjson::dom::element root;
        std::string_view type, reason;
        if (p.parse(body).get(root) == simdjson::SUCCESS) {
            if (root["error"]["type"].get(type) != simdjson::SUCCESS) type = {};
            if (root["error"]["reason"].get(reason) != simdjson::SUCCESS) reason = {};
            if (!type.empty()) return fmt::format(": {}: {}", type, reason);
        }
        std::string s = body.substr(0, 200);
        for (char& c : s)
            if (c == '\n' || c == '\r') c = ' ';
        return ": " + s;
    }

    void handle_items(transfer& tr, const std::string& where) {
        auto r = parse_bulk_response(tr.response, tr.b.items.size());
        if (!r) {
            schedule_retry(std::move(tr.b), fmt::format("{}: {}", r.err().message, where));
            return;
        }
        if (!r->errors) {
            std::lock_guard lk(m_);
            delivered_ += tr.b.items.size();
            if (spare_.size() < 2) spare_.push_back(std::move(tr.b));
            return;
        }
        uint64_t ok = 0, already = 0;
        std::vector<item> again;
        std::string again_reason;
        std::vector<dead> rejected;
        for (size_t i = 0; i < tr.b.items.size(); ++i) {
            const auto& res = r->results[i];
            switch (classify_item(res.status, op_)) {
                case item_fate::delivered: ++ok; break;
                case item_fate::already_present: ++already; break;
                case item_fate::retry:
                    again.push_back(tr.b.items[i]);
                    again_reason = item_reason(res);
                    break;
                case item_fate::reject:
                    rejected.push_back({item_reason(res), tr.b.items[i].source, tr.b.items[i].line,
                                        std::string(doc_text(tr.b, tr.b.items[i]))});
                    break;
            }
        }
        {
            std::lock_guard lk(m_);
            delivered_ += ok + already;
            already_total_ += already;
            for (auto& d : rejected) dead_.push_back(std::move(d));
        }
        if (!again.empty()) {
            batch b = subset(tr.b, again);
            b.first_try = tr.b.first_try;
            b.attempts = tr.b.attempts + 1;
            item_retries_ += again.size();
            double elapsed = std::chrono::duration<double>(clock::now() - b.first_try).count();
            if (b.attempts > o_.max_retries || elapsed > o_.retry_max_time) {
                dead_letter(b, fmt::format("{} (still failing after {} retries)", again_reason, b.attempts - 1));
                return;
            }
            std::uniform_real_distribution<double> u(0.0, 1.0);
            double d = backoff_seconds(b.attempts, o_.retry_delay, o_.retry_max_delay, u(rng_));
            b.due = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(d));
            std::lock_guard lk(m_);
            retry_.push_back(std::move(b));
        }
    }

    cli::tool& t_;
    const options& o_;
    index_template tmpl_;
    std::vector<std::string> urls_;
    op_type op_ = op_type::create;
    id_mode mode_ = id_mode::derived;
    std::string auth_header_;
    std::string region_;
    std::shared_ptr<aws::credentials_provider> creds_;
    std::string index_;  // input thread scratch
    id_buffers ids_;     // input thread scratch

    // shared with the sender, under m_
    std::mutex m_;
    std::condition_variable space_;
    batch current_;
    clock::time_point current_since_{};
    std::deque<batch> queue_;
    std::vector<batch> retry_;
    std::vector<batch> spare_;  // delivered batches whose buffers fresh_batch() reuses
    bool closed_ = false;
    std::atomic<bool> fatal_{false};
    exit_code fatal_code_ = exit_code::runtime;
    std::string fatal_msg_;
    bool fatal_reported_ = false;
    uint64_t delivered_ = 0;
    std::vector<dead> dead_;
    std::vector<std::string> sources_;
    std::string last_source_text_;

    // sender thread only
    CURLM* multi_ = nullptr;
    std::unordered_map<CURL*, std::unique_ptr<transfer>> inflight_;
    std::vector<std::unique_ptr<transfer>> spare_transfers_;
    std::vector<CURL*> idle_;
    size_t next_url_ = 0;
    std::mt19937_64 rng_;
    std::string t_debug_;
    std::atomic<uint64_t> wire_bytes_{0}, requests_{0}, retries_{0}, item_retries_{0}, already_total_{0}, splits_{0};
    std::thread thread_;
};

}  // namespace

expected<std::unique_ptr<sink>> make_es_sink(cli::tool& t, const options& o) {
    auto tmpl = index_template::parse(o.index);
    if (!tmpl) return tmpl.err();
    std::vector<std::string> urls;
    for (auto u : o.es) {
        while (!u.empty() && u.back() == '/') u.pop_back();
        auto p = net::parse_url(u);
        if (!p) return make_error(exit_code::usage, fmt::format("--es: {}", p.err().message));
        urls.push_back(u);
    }
    auto s = std::make_unique<es_sink>(t, o, std::move(*tmpl), std::move(urls));
    if (auto st = s->init(); !st) return st.err();
    return std::unique_ptr<sink>(std::move(s));
}

}  // namespace sds::ship
