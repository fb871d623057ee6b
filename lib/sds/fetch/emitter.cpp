#include "sds/fetch/emitter.hpp"

#include <fmt/format.h>

#include "sds/io/ndjson.hpp"
#include "sds/json/escape.hpp"

namespace sds::fetch {

void emitter::open_record() {
    std::string& b = t_.out().buffer();
    b.push_back('{');
    if (annotate_) {
        b += "\"@source\":{\"uri\":";
        json::append_string_lossy(b, uri_);
        b += ",\"line\":";
        json::append_uint(b, ordinal_);
        b += "}";
    }
}

void emitter::write_record(std::string_view text, bool multiline) {
    // text is a JSON object: '{' ... '}'
    std::string& b = t_.out().buffer();
    std::string_view body = text.substr(1);  // after '{'
    if (multiline) {
        scratch_.clear();
        compact(body, scratch_);
        body = scratch_;
    }
    open_record();
    if (annotate_) {
        size_t i = 0;
        while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) ++i;
        if (i < body.size() && body[i] != '}') b.push_back(',');
    }
    b.append(body);
    b.push_back('\n');
    ++t_.count().out;
    t_.out().commit();
}

status emitter::on_value(std::string_view text, uint64_t line, bool element, bool multiline) {
    simdjson::dom::element doc;
    auto err = parser_.parse(text.data(), text.size(), false).get(doc);
    simdjson::dom::object obj;
    if (err || doc.get_object().get(obj)) {
        ++ordinal_;
        ++t_.count().in;
        t_.reject(err ? io::json_error_reason(err) : "not a JSON object", name_, line, text);
        return status::success();
    }
    if (!element) {
        simdjson::dom::element v;
        if (!obj.at_key("messageType").get(v) && !obj.at_key("logEvents").get(v)) {
            unwrap_cloudwatch(obj, text, line);
            return status::success();
        }
        if (!obj.at_key("digestStartTime").get(v) && !obj.at_key("digestEndTime").get(v)) {
            ++ordinal_;
            ++t_.count().in;
            ++t_.count().filtered;  // CloudTrail digest file: not a log record
            t_.debug(fmt::format("{}: CloudTrail digest skipped", name_));
            return status::success();
        }
        simdjson::dom::array records;
        if (!obj.at_key("Records").get_array().get(records)) {
            // A Records wrapper whose first key is not "Records" (the framer streams the
            // usual layout): unwrap it here, element by element.
            for (simdjson::dom::element r : records) {
                ++ordinal_;
                ++t_.count().in;
                std::string one = simdjson::minify(r);
                if (!r.is_object()) {
                    t_.reject("not a JSON object", name_, line, one);
                    continue;
                }
                write_record(one, false);
            }
            return status::success();
        }
    }
    ++ordinal_;
    ++t_.count().in;
    t_.tick();
    write_record(text, multiline);
    return status::success();
}

void emitter::unwrap_cloudwatch(simdjson::dom::object obj, std::string_view text, uint64_t line) {
    std::string_view type, group, stream, owner;
    if (obj["messageType"].get(type)) {}
    if (type == "CONTROL_MESSAGE") {
        ++ordinal_;
        ++t_.count().in;
        ++t_.count().filtered;
        return;
    }
    simdjson::dom::array events;
    if (obj["logEvents"].get_array().get(events)) {
        ++ordinal_;
        ++t_.count().in;
        t_.reject("CloudWatch Logs payload without a logEvents array", name_, line, text);
        return;
    }
    if (obj["logGroup"].get(group)) {}
    if (obj["logStream"].get(stream)) {}
    if (obj["owner"].get(owner)) {}
    simdjson::dom::array filters;
    bool has_filters = !obj["subscriptionFilters"].get_array().get(filters);
    for (simdjson::dom::element ev : events) {
        ++ordinal_;
        ++t_.count().in;
        std::string_view message, id;
        int64_t ts = 0;
        if (ev["message"].get(message)) {
            t_.reject("CloudWatch Logs event without a message", name_, line, simdjson::minify(ev));
            continue;
        }
        if (ev["id"].get(id)) {}
        bool has_ts = !ev["timestamp"].get(ts);
        std::string& b = t_.out().buffer();
        open_record();
        if (annotate_) b.push_back(',');
        b += "\"message\":";
        json::append_string(b, message);
        b += ",\"aws\":{\"cloudwatch\":{\"log_group\":";
        json::append_string(b, group);
        b += ",\"log_stream\":";
        json::append_string(b, stream);
        if (!owner.empty()) {
            b += ",\"owner\":";
            json::append_string(b, owner);
        }
        if (has_filters) {
            b += ",\"subscription_filters\":";
            b += simdjson::minify(filters);
        }
        if (!id.empty()) {
            b += ",\"id\":";
            json::append_string(b, id);
        }
        if (has_ts) {
            b += ",\"timestamp\":";
            json::append_int(b, ts);
        }
        b += "}}}\n";
        ++t_.count().out;
        t_.out().commit();
    }
}

status emitter::on_bad(std::string_view reason, uint64_t line, std::string_view text) {
    ++ordinal_;
    ++t_.count().in;
    t_.reject(reason, name_, line, text);
    return status::success();
}

status emitter::on_line(std::string_view line, uint64_t number) {
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) return status::success();
    ordinal_ = number;
    ++t_.count().in;
    t_.tick();
    if (!json::valid_utf8(line)) {
        t_.reject("invalid UTF-8", name_, number, line);
        return status::success();
    }
    std::string& b = t_.out().buffer();
    open_record();
    if (annotate_) b.push_back(',');
    b += "\"message\":";
    json::append_string(b, line);
    b += "}\n";
    ++t_.count().out;
    t_.out().commit();
    return status::success();
}

status emitter::on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) {
    ordinal_ = number;
    ++t_.count().in;
    t_.reject(fmt::format("line of {} bytes exceeds --max-record-bytes (first bytes kept)", bytes), name_, number,
              prefix);
    return status::success();
}

status sniffer::consume(std::string_view chunk) {
    if (!target_) {
        size_t i = 0;
        while (i < chunk.size() && (chunk[i] == ' ' || chunk[i] == '\t' || chunk[i] == '\r' || chunk[i] == '\n')) ++i;
        if (i == chunk.size()) {
            pending_.append(chunk);
            return status::success();
        }
        char c = chunk[i];
        target_ = (c == '{' || c == '[') ? static_cast<io::chunk_consumer*>(&json_) : &text_;
        if (!pending_.empty()) {
            if (auto s = target_->consume(pending_.view()); !s) return s;
            pending_.clear();
        }
    }
    return target_->consume(chunk);
}

status sniffer::finish() {
    if (!target_) return status::success();  // empty or blank input: no records
    return target_->finish();
}

}  // namespace sds::fetch
