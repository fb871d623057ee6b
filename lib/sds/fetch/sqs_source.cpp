// sds-fetch --sqs-queue: S3 event notifications from SQS, competing consumers, at-least-once.
// A message is deleted only after every object it names was read and its records flushed;
// while that takes long, a keeper thread extends the message's visibility.
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "sds/core/signals.hpp"
#include "sds/fetch/s3_source.hpp"
#include "sds/s3/sqs.hpp"

namespace sds::fetch {
namespace {

// Extends the visibility of in-flight messages at half their timeout.
class visibility_keeper {
public:
    visibility_keeper(s3::sqs_config cfg, int visibility) : sqs_(std::move(cfg)), visibility_(visibility) {
        thread_ = std::thread([this] { loop(); });
    }
    ~visibility_keeper() {
        {
            std::lock_guard lk(m_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void add(const std::string& receipt) {
        std::lock_guard lk(m_);
        due_[receipt] = clock::now() + std::chrono::milliseconds(visibility_ * 500);
    }
    void remove(const std::string& receipt) {
        std::lock_guard lk(m_);
        due_.erase(receipt);
    }
    uint64_t extensions() const { return extensions_.load(); }

private:
    using clock = std::chrono::steady_clock;
    void loop() {
        std::unique_lock lk(m_);
        while (!stop_) {
            cv_.wait_for(lk, std::chrono::milliseconds(500));
            auto now = clock::now();
            std::vector<std::string> todo;
            for (auto& [r, due] : due_)
                if (due <= now) todo.push_back(r);
            if (todo.empty()) continue;
            lk.unlock();
            for (const auto& r : todo) {
                if (sqs_.change_visibility(r, visibility_)) ++extensions_;
            }
            lk.lock();
            for (const auto& r : todo) {
                auto it = due_.find(r);
                if (it != due_.end()) it->second = clock::now() + std::chrono::milliseconds(visibility_ * 500);
            }
        }
    }
    s3::sqs_client sqs_;
    int visibility_;
    std::mutex m_;
    std::condition_variable cv_;
    std::map<std::string, clock::time_point> due_;
    bool stop_ = false;
    std::atomic<uint64_t> extensions_{0};
    std::thread thread_;
};

}  // namespace

exit_code run_sqs(cli::tool& t, const options& o, emitter& em) {
    auto cfg = s3_config(o);
    if (!cfg) {
        t.error(cfg.err().message);
        return cfg.err().code;
    }
    s3::sqs_config qc;
    qc.queue_url = o.sqs_queue;
    qc.region = o.region.empty() ? s3::region_of_queue_url(o.sqs_queue) : o.region;
    if (qc.region.empty()) qc.region = cfg->region;
    qc.creds = cfg->creds;
    qc.max_attempts = int(o.retries) + 1;
    if (!net::parse_url(o.sqs_queue)) {
        t.error(fmt::format("invalid --sqs-queue: {}", o.sqs_queue));
        return exit_code::usage;
    }
    s3::sqs_client sqs(qc);
    s3::client c(*cfg);
    visibility_keeper keeper(qc, int(o.sqs_visibility));
    exit_code result = exit_code::ok;
    uint64_t messages = 0, objects = 0;
    const std::string queue_name = net::redact_url(o.sqs_queue);

    while (!interrupted()) {
        int want = 10;
        if (o.sqs_max_messages > 0) {
            if (messages >= o.sqs_max_messages) break;
            want = int(std::min<uint64_t>(10, o.sqs_max_messages - messages));
        }
        auto batch = sqs.receive(want, int(o.sqs_wait), int(o.sqs_visibility));
        if (!batch) {
            if (interrupted()) break;
            t.error(batch.err().message);
            result = worst(result, batch.err().code);
            break;
        }
        if (batch->empty()) {
            if (o.sqs_exit_when_empty) break;
            continue;
        }
        for (const auto& m : *batch) keeper.add(m.receipt);
        bool stop = false;
        for (const auto& m : *batch) {
            if (stop || interrupted()) {
                keeper.remove(m.receipt);  // left for another consumer after its visibility timeout
                continue;
            }
            ++messages;
            auto objs = s3::parse_notification(m.body);
            if (!objs) {
                // Not an S3 notification: dead-lettered (the message text as the record), then deleted.
                ++t.count().in;
                t.reject(objs.err().message, queue_name, 0, m.body);
                result = worst(result, exit_code::rejected);
            }
            bool all_read = true;
            if (objs) {
                for (const auto& ob : *objs) {
                    if (ob.key.find("CloudTrail-Digest") != std::string::npos) {
                        ++t.count().in;
                        ++t.count().filtered;
                        continue;
                    }
                    ++objects;
                    object_reader rd(t, em, ob.uri());
                    auto r = c.get(ob, [&](std::string_view chunk) { return !interrupted() && rd.push(chunk); });
                    exit_code oc = rd.finish();
                    if (!r && oc != exit_code::rejected) {
                        if (!interrupted()) {
                            t.error(r.err().message);
                            result = worst(result, r.err().code);
                        }
                        all_read = false;
                        stop = true;
                        break;
                    }
                    result = worst(result, oc);
                }
            }
            keeper.remove(m.receipt);
            if (!all_read) continue;  // not deleted: it comes back after its visibility timeout
            t.out().flush();
            if (auto st = sqs.remove(m.receipt); !st) {
                t.error(st.err().message);
                result = worst(result, exit_code::runtime);
                stop = true;
            }
        }
        if (stop) break;
    }
    t.add_stat("sqs_messages", std::to_string(messages));
    t.add_stat("s3_objects", std::to_string(objects));
    t.add_stat("sqs_visibility_extensions", std::to_string(keeper.extensions()));
    t.add_stat("s3_retries", std::to_string(c.retries()));
    return result;
}

}  // namespace sds::fetch
