#include "sds/s3/sqs.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <random>
#include <thread>

#include "sds/aws/sigv4.hpp"
#include "sds/core/signals.hpp"
#include "sds/json/escape.hpp"

namespace sds::s3 {

std::string region_of_queue_url(std::string_view url) {
    auto u = net::parse_url(url);
    if (!u) return {};
    std::string_view h = u->host;
    if (h.rfind("sqs.", 0) != 0) return {};
    h.remove_prefix(4);
    auto dot = h.find('.');
    if (dot == std::string_view::npos) return {};
    return std::string(h.substr(0, dot));
}

sqs_client::sqs_client(sqs_config cfg) : cfg_(std::move(cfg)) {
    auto u = net::parse_url(cfg_.queue_url);
    if (u) endpoint_ = u->scheme + "://" + u->authority() + "/";
    if (cfg_.region.empty()) cfg_.region = region_of_queue_url(cfg_.queue_url);
    if (cfg_.region.empty()) cfg_.region = "us-east-1";
}

expected<std::string> sqs_client::call(std::string_view action, const std::string& body, std::chrono::seconds timeout) {
    const std::string where = fmt::format("sqs {}: {}", action, net::redact_url(cfg_.queue_url));
    if (endpoint_.empty()) return make_error(exit_code::usage, fmt::format("invalid --sqs-queue: {}", cfg_.queue_url));
    std::string last_why;
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (int attempt = 0; attempt < cfg_.max_attempts; ++attempt) {
        if (attempt > 0) {
            int64_t cap = std::min<int64_t>(10'000, 200ll << attempt);
            std::uniform_int_distribution<int64_t> dist(cap / 4, cap);
            std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
            if (interrupted()) return make_error(exit_code::interrupted, "interrupted");
        }
        net::request req;
        req.method = "POST";
        req.url = endpoint_;
        req.body = body;
        req.total_timeout = timeout;
        req.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
        req.headers.push_back({"X-Amz-Target", "AmazonSQS." + std::string(action)});
        auto creds = cfg_.creds->get();
        if (!creds) return creds.err();
        aws::sign_options so;
        so.region = cfg_.region;
        so.service = "sqs";
        if (auto st = aws::sign(req, *creds, so); !st) return st.err();
        auto resp = http_.perform(req);
        if (!resp) {
            last_why = resp.err().message;
            continue;
        }
        if (resp->status == 200) return std::move(resp->body);
        std::string why = fmt::format("http {}", resp->status);
        simdjson::dom::parser p;
        simdjson::dom::element doc;
        std::string_view type, msg;
        if (!p.parse(resp->body).get(doc)) {
            if (!doc["__type"].get(type)) why += " " + std::string(type.substr(type.rfind('#') + 1));
            if (!doc["message"].get(msg) || !doc["Message"].get(msg)) why += ": " + std::string(msg.substr(0, 200));
        }
        if (resp->status >= 500 || resp->status == 429) {
            last_why = why;
            continue;
        }
        return make_error(exit_code::runtime, fmt::format("{} failed ({})", where, why));
    }
    return make_error(exit_code::runtime,
                      fmt::format("{} failed ({}; gave up after {} attempts)", where, last_why, cfg_.max_attempts));
}

expected<std::vector<sqs_message>> sqs_client::receive(int max_messages, int wait_seconds, int visibility_seconds) {
    std::string body = "{\"QueueUrl\":";
    json::append_string(body, cfg_.queue_url);
    body += fmt::format(",\"MaxNumberOfMessages\":{},\"WaitTimeSeconds\":{},\"VisibilityTimeout\":{}}}", max_messages,
                        wait_seconds, visibility_seconds);
    auto r = call("ReceiveMessage", body, std::chrono::seconds(wait_seconds + 30));
    if (!r) return r.err();
    std::vector<sqs_message> out;
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    if (p.parse(*r).get(doc))
        return make_error(exit_code::runtime, fmt::format("sqs ReceiveMessage: {} (answer is not JSON)",
                                                          net::redact_url(cfg_.queue_url)));
    simdjson::dom::array msgs;
    if (doc["Messages"].get_array().get(msgs)) return out;
    for (auto m : msgs) {
        std::string_view id, receipt, text;
        if (m["MessageId"].get(id)) {}
        if (m["ReceiptHandle"].get(receipt) || m["Body"].get(text)) continue;
        out.push_back({std::string(id), std::string(receipt), std::string(text)});
    }
    return out;
}

status sqs_client::remove(const std::string& receipt) {
    std::string body = "{\"QueueUrl\":";
    json::append_string(body, cfg_.queue_url);
    body += ",\"ReceiptHandle\":";
    json::append_string(body, receipt);
    body += "}";
    auto r = call("DeleteMessage", body, std::chrono::seconds(30));
    if (!r) return r.err();
    return status::success();
}

status sqs_client::change_visibility(const std::string& receipt, int seconds) {
    std::string body = "{\"QueueUrl\":";
    json::append_string(body, cfg_.queue_url);
    body += ",\"ReceiptHandle\":";
    json::append_string(body, receipt);
    body += fmt::format(",\"VisibilityTimeout\":{}}}", seconds);
    auto r = call("ChangeMessageVisibility", body, std::chrono::seconds(30));
    if (!r) return r.err();
    return status::success();
}

namespace {

status parse_into(simdjson::dom::parser& p, std::string_view body, std::vector<object>& out, int depth) {
    simdjson::dom::element doc;
    if (p.parse(body).get(doc)) return make_error(exit_code::rejected, "message body is not JSON");
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return make_error(exit_code::rejected, "message body is not a JSON object");
    std::string_view s;
    // SNS: {"Type":"Notification","Message":"<the S3 event as a string>"}
    if (!obj["Type"].get(s) && s == "Notification" && depth == 0) {
        std::string_view inner;
        if (obj["Message"].get(inner)) return make_error(exit_code::rejected, "SNS notification without a Message");
        std::string copy(inner);
        simdjson::dom::parser p2;
        return parse_into(p2, copy, out, depth + 1);
    }
    if (!obj["Event"].get(s) && s == "s3:TestEvent") return status::success();
    // EventBridge: {"source":"aws.s3","detail-type":"Object Created","detail":{…}}
    if (!obj["detail-type"].get(s)) {
        std::string_view src;
        if (obj["source"].get(src) || src != "aws.s3") return make_error(exit_code::rejected, "EventBridge event not from aws.s3");
        if (s != "Object Created") return status::success();
        object o;
        std::string_view bucket, key, etag;
        if (obj.at_pointer("/detail/bucket/name").get(bucket) || obj.at_pointer("/detail/object/key").get(key))
            return make_error(exit_code::rejected, "EventBridge S3 event without bucket name or object key");
        o.bucket = bucket;
        o.key = key;
        if (!obj.at_pointer("/detail/object/etag").get(etag) && !etag.empty()) o.etag = "\"" + std::string(etag) + "\"";
        uint64_t size = 0;
        if (!obj.at_pointer("/detail/object/size").get(size)) o.size = size;
        out.push_back(std::move(o));
        return status::success();
    }
    simdjson::dom::array records;
    if (obj["Records"].get_array().get(records)) return make_error(exit_code::rejected, "not an S3 event notification");
    for (auto r : records) {
        std::string_view source, name, bucket, key, etag;
        if (r["eventSource"].get(source) || source != "aws:s3") continue;
        if (r["eventName"].get(name) || name.rfind("ObjectCreated:", 0) != 0) continue;
        if (r.at_pointer("/s3/bucket/name").get(bucket) || r.at_pointer("/s3/object/key").get(key))
            return make_error(exit_code::rejected, "S3 event record without bucket name or object key");
        object o;
        o.bucket = bucket;
        o.key = net::uri_decode(key, true);  // S3 events carry URL-encoded keys ('+' for spaces)
        if (!r.at_pointer("/s3/object/eTag").get(etag) && !etag.empty()) o.etag = "\"" + std::string(etag) + "\"";
        uint64_t size = 0;
        if (!r.at_pointer("/s3/object/size").get(size)) o.size = size;
        out.push_back(std::move(o));
    }
    return status::success();
}

}  // namespace

expected<std::vector<object>> parse_notification(std::string_view body) {
    std::vector<object> out;
    simdjson::dom::parser p;
    std::string copy(body);
    if (auto st = parse_into(p, copy, out, 0); !st) return st.err();
    return out;
}

}  // namespace sds::s3
