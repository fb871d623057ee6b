// CloudTrail field names and where sds-normalize puts them in ECS (the names pySigma's
// ecs_cloudtrail pipeline uses; JSON-valued objects under aws.cloudtrail.flattened.*).
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "sds/detect/extract.hpp"
#include "sds/detect/sigma.hpp"

namespace sds::detect {

namespace {

struct mapping {
    std::string_view raw;
    std::string_view ecs;
};
constexpr std::array<mapping, 30> exact_map{{
    {"apiVersion", "aws.cloudtrail.api_version"},
    {"awsRegion", "cloud.region"},
    {"errorCode", "aws.cloudtrail.error_code"},
    {"errorMessage", "aws.cloudtrail.error_message"},
    {"eventCategory", "aws.cloudtrail.event_category"},
    {"eventID", "event.id"},
    {"eventName", "event.action"},
    {"eventSource", "event.provider"},
    {"eventType", "aws.cloudtrail.event_type"},
    {"eventVersion", "aws.cloudtrail.event_version"},
    {"managementEvent", "aws.cloudtrail.management_event"},
    {"readOnly", "aws.cloudtrail.read_only"},
    {"recipientAccountId", "aws.cloudtrail.recipient_account_id"},
    {"requestID", "aws.cloudtrail.request_id"},
    {"sharedEventID", "aws.cloudtrail.shared_event_id"},
    {"sourceIPAddress", "source.address"},
    {"userAgent", "user_agent.original"},
    {"userIdentity.accessKeyId", "aws.cloudtrail.user_identity.access_key_id"},
    {"userIdentity.accountId", "cloud.account.id"},
    {"userIdentity.arn", "aws.cloudtrail.user_identity.arn"},
    {"userIdentity.invokedBy", "aws.cloudtrail.user_identity.invoked_by"},
    {"userIdentity.principalId", "user.id"},
    {"userIdentity.sessionContext.attributes.creationDate", "aws.cloudtrail.user_identity.session_context.creation_date"},
    {"userIdentity.sessionContext.attributes.mfaAuthenticated",
     "aws.cloudtrail.user_identity.session_context.mfa_authenticated"},
    {"userIdentity.sessionContext.sessionIssuer.userName", "role.name"},
    {"userIdentity.sessionContext.sessionIssuer.arn", "aws.cloudtrail.user_identity.session_context.session_issuer.arn"},
    {"userIdentity.sessionContext.sessionIssuer.type", "aws.cloudtrail.user_identity.session_context.session_issuer.type"},
    {"userIdentity.type", "aws.cloudtrail.user_identity.type"},
    {"userIdentity.userName", "user.name"},
    {"vpcEndpointId", "aws.cloudtrail.vpc_endpoint_id"},
}};

// JSON-valued members: the object itself is kept as a JSON string, its content under flattened.
struct prefix_map {
    std::string_view raw;
    std::string_view whole;      // the JSON string
    std::string_view flattened;  // the object
};
constexpr std::array<prefix_map, 4> prefixes{{
    {"requestParameters", "aws.cloudtrail.request_parameters", "aws.cloudtrail.flattened.request_parameters"},
    {"responseElements", "aws.cloudtrail.response_elements", "aws.cloudtrail.flattened.response_elements"},
    {"additionalEventData", "aws.cloudtrail.additional_eventdata", "aws.cloudtrail.flattened.additional_eventdata"},
    {"serviceEventDetails", "aws.cloudtrail.service_event_details", "aws.cloudtrail.flattened.service_event_details"},
}};

void walk(simdjson::dom::element e, std::string_view path, std::vector<simdjson::dom::element>& out) {
    simdjson::dom::array arr;
    if (!e.get_array().get(arr)) {
        for (simdjson::dom::element x : arr) walk(x, path, out);
        return;
    }
    if (path.empty()) {
        out.push_back(e);
        return;
    }
    simdjson::dom::object obj;
    if (e.get_object().get(obj)) return;
    simdjson::dom::element v;
    if (!obj.at_key(path).get(v)) {
        walk(v, {}, out);
        return;
    }
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
        if (!obj.at_key(path.substr(0, dot)).get(v)) walk(v, path.substr(dot + 1), out);
    }
}

bool is_ecs(simdjson::dom::element record) {
    simdjson::dom::element v;
    return !record.at_pointer("/ecs/version").get(v) || !record.at_pointer("/event/dataset").get(v);
}

}  // namespace

void field_values(simdjson::dom::element record, std::string_view field, std::vector<simdjson::dom::element>& out) {
    int ecs = -1;
    field_values(record, field, out, ecs);
}

void field_values(simdjson::dom::element record, std::string_view field, std::vector<simdjson::dom::element>& out,
                  int& ecs) {
    size_t before = out.size();
    walk(record, field, out);
    if (out.size() != before) return;
    if (ecs < 0) ecs = is_ecs(record) ? 1 : 0;
    if (!ecs) return;
    for (const auto& m : exact_map) {
        if (m.raw == field) {
            walk(record, m.ecs, out);
            return;
        }
    }
    for (const auto& p : prefixes) {
        if (field == p.raw) {
            walk(record, p.whole, out);
            return;
        }
        if (field.size() > p.raw.size() && field.substr(0, p.raw.size()) == p.raw && field[p.raw.size()] == '.') {
            std::string path = fmt::format("{}{}", p.flattened, field.substr(p.raw.size()));
            walk(record, path, out);
            return;
        }
    }
}

bool is_ecs_record(simdjson::dom::element record) { return is_ecs(record); }

std::string ecs_path(std::string_view field) {
    for (const auto& m : exact_map)
        if (m.raw == field) return std::string(m.ecs);
    for (const auto& p : prefixes) {
        if (field == p.raw) return std::string(p.whole);
        if (field.size() > p.raw.size() && field.substr(0, p.raw.size()) == p.raw && field[p.raw.size()] == '.')
            return fmt::format("{}{}", p.flattened, field.substr(p.raw.size()));
    }
    return {};
}

// --- field_extractor -------------------------------------------------------------------------

field_extractor::field_extractor() {  // is_ecs() reads these two
    ecs_edge_ = edge_of("ecs");
    event_edge_ = edge_of("event");
}

uint32_t field_extractor::edge_of(std::string_view key) {
    for (uint32_t i = 0; i < edges_.size(); ++i)
        if (edges_[i].key == key) return i;
    edges_.push_back(edge{std::string(key), key.find('.') != std::string_view::npos});
    rebuild();
    seen_.assign(edges_.size(), 0);
    val_.resize(edges_.size());
    return static_cast<uint32_t>(edges_.size() - 1);
}

void field_extractor::rebuild() {
    uint32_t size = 4;
    while (size < edges_.size() * 4) size *= 2;
    table_.assign(size, 0);
    mask_ = size - 1;
    for (uint32_t i = 0; i < edges_.size(); ++i) {
        uint32_t h = hash(edges_[i].key) & mask_;
        while (table_[h]) h = (h + 1) & mask_;
        table_[h] = i + 1;
    }
}

field_extractor::path field_extractor::add_path(std::string_view p) {
    // Every dotted top-level key the path could also be spelt with ("a.b", "a.b.c") is a
    // marker that sends the record to field_values().
    for (size_t dot = p.find('.'); dot != std::string_view::npos; dot = p.find('.', dot + 1))
        edge_of(p.substr(0, p.find('.', dot + 1)));
    size_t dot = p.find('.');
    path r;
    r.edge = edge_of(p.substr(0, dot));
    if (dot != std::string_view::npos) r.rest = std::string(p.substr(dot + 1));
    return r;
}

void field_extractor::add(uint32_t fid, std::string_view field) {
    if (fields_.size() <= fid) fields_.resize(size_t(fid) + 1);
    fields_[fid].raw = add_path(field);
    if (auto ecs = ecs_path(field); !ecs.empty()) fields_[fid].ecs = add_path(ecs);
}

void field_extractor::track_root(std::string_view member) { tracked_.push_back(edge_of(member)); }

bool field_extractor::index(simdjson::dom::element record) const {
    simdjson::dom::object obj;
    if (record.get_object().get(obj)) return false;  // not an object: the per-field path decides
    const uint64_t stamp = ++stamp_;
    size_t pos = 0;
    for (auto kv : obj) {
        uint32_t k;
        if (pos < guess_.size() && guess_[pos].key.size() == kv.key.size() &&
            same(guess_[pos].key.data(), kv.key.data(), kv.key.size())) {
            k = guess_[pos].edge;
        } else {
            k = find(kv.key);
            if (pos < 64) {  // wider records: the rest go by the table alone
                if (pos >= guess_.size()) guess_.resize(pos + 1);
                guess_[pos].key.assign(kv.key);
                guess_[pos].edge = k;
            }
        }
        ++pos;
        if (k == UINT32_MAX) continue;
        if (edges_[k].dotted) return false;
        if (seen_[k] == stamp) continue;  // a repeated key: the first one counts
        seen_[k] = stamp;
        val_[k] = kv.value;
    }
    return true;
}

void field_extractor::lookup(const path& p, std::vector<simdjson::dom::element>& out) const {
    if (p.edge == UINT32_MAX || seen_[p.edge] != stamp_) return;
    walk(val_[p.edge], p.rest, out);
}

bool field_extractor::is_ecs() const {
    auto has = [&](uint32_t k, const char* member) {
        simdjson::dom::object o;
        simdjson::dom::element v;
        return seen_[k] == stamp_ && !val_[k].get_object().get(o) && !o.at_key(member).get(v);
    };
    return has(ecs_edge_, "version") || has(event_edge_, "dataset");
}

void field_extractor::values(uint32_t fid, std::vector<simdjson::dom::element>& out, int& ecs) const {
    const field& f = fields_[fid];
    size_t before = out.size();
    lookup(f.raw, out);
    if (out.size() != before || f.ecs.edge == UINT32_MAX) return;
    if (ecs < 0) ecs = is_ecs() ? 1 : 0;
    if (ecs) lookup(f.ecs, out);
}

}  // namespace sds::detect
