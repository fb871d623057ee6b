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

uint32_t field_extractor::edge_of(uint32_t n, std::string_view key) {
    auto& edges = nodes_[n].edges;
    for (uint32_t i = 0; i < edges.size(); ++i)
        if (edges[i].key == key) return i;
    edge e;
    e.key = std::string(key);
    e.dotted = key.find('.') != std::string_view::npos;
    edges.push_back(std::move(e));
    rebuild(n);
    return static_cast<uint32_t>(edges.size() - 1);
}

void field_extractor::rebuild(uint32_t n) {
    node& nd = nodes_[n];
    uint32_t size = 4;
    while (size < nd.edges.size() * 4) size *= 2;
    nd.table.assign(size, 0);
    nd.mask = size - 1;
    for (uint32_t i = 0; i < nd.edges.size(); ++i) {
        uint32_t h = hash(nd.edges[i].key) & nd.mask;
        while (nd.table[h]) h = (h + 1) & nd.mask;
        nd.table[h] = i + 1;
    }
}

void field_extractor::add_path(std::string_view path, uint32_t slot) {
    // The nested chain a.b.c; at each node on it, every dotted key the rest could also be
    // spelt with ("a.b", "a.b.c", "b.c") is a marker that sends the record to field_values().
    std::vector<std::string_view> segs;
    for (size_t start = 0;;) {
        size_t dot = path.find('.', start);
        segs.push_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    uint32_t n = 0;
    size_t off = 0;  // offset of segs[i] in path
    for (size_t i = 0; i < segs.size(); ++i) {
        size_t end = off + segs[i].size();
        for (size_t j = i + 1; j < segs.size(); ++j) {
            end += 1 + segs[j].size();
            edge_of(n, path.substr(off, end - off));
        }
        uint32_t e = edge_of(n, segs[i]);
        if (i + 1 == segs.size()) {
            auto& sl = nodes_[n].edges[e].slots;
            if (std::find(sl.begin(), sl.end(), slot) == sl.end()) sl.push_back(slot);
        } else {
            if (nodes_[n].edges[e].child == UINT32_MAX) {
                nodes_[n].edges[e].child = static_cast<uint32_t>(nodes_.size());
                nodes_.emplace_back();
            }
            n = nodes_[n].edges[e].child;
        }
        off += segs[i].size() + 1;
    }
}

void field_extractor::add(uint32_t fid, std::string_view field) {
    slots_ = std::max<size_t>(slots_, 2 * size_t(fid) + 2);
    add_path(field, 2 * fid);
    if (auto ecs = ecs_path(field); !ecs.empty()) add_path(ecs, 2 * fid + 1);
}

void field_extractor::track_root(std::string_view member) {
    uint32_t e = edge_of(0, member);
    nodes_[0].edges[e].root_track = static_cast<int32_t>(tracked_++);
    root_seen_.assign(tracked_, 0);
    root_val_.resize(tracked_);
}

namespace {
void leaves(simdjson::dom::element v, uint32_t slot, std::vector<field_extractor::value>& out) {
    simdjson::dom::array arr;
    if (!v.get_array().get(arr)) {
        for (simdjson::dom::element x : arr) leaves(x, slot, out);
        return;
    }
    out.push_back({slot, v});
}
}  // namespace

bool field_extractor::visit(const node& n, simdjson::dom::element v, std::vector<value>& out, bool is_root) const {
    simdjson::dom::array arr;
    if (!v.get_array().get(arr)) {
        for (simdjson::dom::element x : arr)
            if (!visit(n, x, out, false)) return false;
        return true;
    }
    simdjson::dom::object obj;
    if (v.get_object().get(obj)) return true;
    const uint64_t stamp = ++visit_;
    if (is_root) visit_root_ = stamp;
    for (auto kv : obj) {
        const edge* e = find(n, kv.key);
        if (!e) continue;
        if (e->dotted || e->seen == stamp) return false;
        e->seen = stamp;
        if (e->root_track >= 0 && is_root) {
            root_seen_[e->root_track] = stamp;
            root_val_[e->root_track] = kv.value;
        }
        for (auto s : e->slots) leaves(kv.value, s, out);
        if (e->child != UINT32_MAX && !visit(nodes_[e->child], kv.value, out, false)) return false;
    }
    return true;
}

bool field_extractor::extract(simdjson::dom::element record, std::vector<value>& out) const {
    visit_root_ = 0;
    simdjson::dom::object obj;
    if (record.get_object().get(obj)) return false;  // not an object: the per-field path decides
    return visit(nodes_[0], record, out, true);
}

}  // namespace sds::detect
