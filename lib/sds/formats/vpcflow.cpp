#include "sds/formats/vpcflow.hpp"

#include <iterator>
#include <memory>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sds/core/ip.hpp"
#include "sds/formats/tokenize.hpp"

namespace sds::formats {

namespace {

// Every field AWS documents for VPC and Transit Gateway flow logs, and where it goes. An empty
// target means the field is handled specially in parse().
struct field_def {
    std::string_view name;    // AWS name (as in the header line)
    std::string_view target;  // aws.vpcflow.* path ("" = special)
};

enum special : uint8_t {
    f_version, f_account, f_srcaddr, f_dstaddr, f_srcport, f_dstport, f_protocol, f_packets, f_bytes, f_start, f_end,
    f_action, f_instance, f_tcp_flags, f_region, f_az, f_direction, n_special
};

constexpr field_def defs[] = {
    {"version", "aws.vpcflow.version"},
    {"account-id", "aws.vpcflow.account_id"},
    {"srcaddr", ""},
    {"dstaddr", ""},
    {"srcport", ""},
    {"dstport", ""},
    {"protocol", ""},
    {"packets", ""},
    {"bytes", ""},
    {"start", ""},
    {"end", ""},
    {"action", "aws.vpcflow.action"},
    {"instance-id", "aws.vpcflow.instance_id"},
    {"tcp-flags", "aws.vpcflow.tcp_flags"},
    {"region", "cloud.region"},
    {"az-id", "cloud.availability_zone"},
    {"flow-direction", "network.direction"},
    // plain aws.vpcflow.* fields
    {"interface-id", "aws.vpcflow.interface_id"},
    {"log-status", "aws.vpcflow.log_status"},
    {"vpc-id", "aws.vpcflow.vpc_id"},
    {"subnet-id", "aws.vpcflow.subnet_id"},
    {"type", "aws.vpcflow.type"},
    {"pkt-srcaddr", "aws.vpcflow.pkt_srcaddr"},
    {"pkt-dstaddr", "aws.vpcflow.pkt_dstaddr"},
    {"sublocation-type", "aws.vpcflow.sublocation.type"},
    {"sublocation-id", "aws.vpcflow.sublocation.id"},
    {"pkt-src-aws-service", "aws.vpcflow.pkt_src_service"},
    {"pkt-dst-aws-service", "aws.vpcflow.pkt_dst_service"},
    {"traffic-path", "aws.vpcflow.traffic_path"},
    {"ecs-cluster-arn", "aws.vpcflow.ecs_cluster_arn"},
    {"ecs-cluster-name", "aws.vpcflow.ecs_cluster_name"},
    {"ecs-container-instance-arn", "aws.vpcflow.ecs_container_instance_arn"},
    {"ecs-container-instance-id", "aws.vpcflow.ecs_container_instance_id"},
    {"ecs-container-id", "aws.vpcflow.ecs_container_id"},
    {"ecs-second-container-id", "aws.vpcflow.ecs_second_container_id"},
    {"ecs-service-name", "aws.vpcflow.ecs_service_name"},
    {"ecs-task-definition-arn", "aws.vpcflow.ecs_task_definition_arn"},
    {"ecs-task-arn", "aws.vpcflow.ecs_task_arn"},
    {"ecs-task-id", "aws.vpcflow.ecs_task_id"},
    {"reject-reason", "aws.vpcflow.reject_reason"},
    {"resource-type", "aws.vpcflow.resource_type"},
    {"tgw-id", "aws.vpcflow.tgw_id"},
    {"tgw-attachment-id", "aws.vpcflow.tgw_attachment_id"},
    {"tgw-src-vpc-account-id", "aws.vpcflow.tgw_src_vpc_account_id"},
    {"tgw-dst-vpc-account-id", "aws.vpcflow.tgw_dst_vpc_account_id"},
    {"tgw-src-vpc-id", "aws.vpcflow.tgw_src_vpc_id"},
    {"tgw-dst-vpc-id", "aws.vpcflow.tgw_dst_vpc_id"},
    {"tgw-src-subnet-id", "aws.vpcflow.tgw_src_subnet_id"},
    {"tgw-dst-subnet-id", "aws.vpcflow.tgw_dst_subnet_id"},
    {"tgw-src-eni", "aws.vpcflow.tgw_src_eni"},
    {"tgw-dst-eni", "aws.vpcflow.tgw_dst_eni"},
    {"tgw-src-az-id", "aws.vpcflow.tgw_src_az_id"},
    {"tgw-dst-az-id", "aws.vpcflow.tgw_dst_az_id"},
    {"tgw-pair-attachment-id", "aws.vpcflow.tgw_pair_attachment_id"},
    {"packets-lost-no-route", "aws.vpcflow.packets_lost_no_route"},
    {"packets-lost-blackhole", "aws.vpcflow.packets_lost_blackhole"},
    {"packets-lost-mtu-exceeded", "aws.vpcflow.packets_lost_mtu_exceeded"},
    {"packets-lost-ttl-expired", "aws.vpcflow.packets_lost_ttl_expired"},
};
constexpr size_t n_defs = sizeof defs / sizeof defs[0];
constexpr uint8_t unknown_field = 0xff;

uint8_t field_index(std::string_view name) {
    if (name.starts_with("${") && name.ends_with("}")) name = name.substr(2, name.size() - 3);
    for (size_t i = 0; i < n_defs; ++i)
        if (defs[i].name == name) return static_cast<uint8_t>(i);
    return unknown_field;
}

template <size_t N>
size_t make_layout(std::array<uint8_t, N>& out, std::string_view names) {
    size_t n = 0;
    while (!names.empty()) {
        size_t p = names.find_first_of(" ,\t");
        std::string_view w = names.substr(0, p);
        names.remove_prefix(p == std::string_view::npos ? names.size() : p + 1);
        if (w.empty()) continue;
        uint8_t idx = field_index(w);
        if (idx == unknown_field || n == N) return 0;
        out[n++] = idx;
    }
    return n;
}

struct builtin {
    size_t count;
    std::array<uint8_t, vpcflow_parser::max_fields> fields;
};

builtin make_builtin(std::string_view names) {
    builtin b{};
    b.count = make_layout(b.fields, names);
    return b;
}

const builtin& v2_default() {
    static const builtin b = make_builtin(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status");
    return b;
}
const builtin& tgw_default() {
    static const builtin b = make_builtin(
        "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id "
        "tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id "
        "tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
        "log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded "
        "packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service");
    return b;
}
// The other layouts Elastic's pipeline recognises by their field count.
const builtin& by_count(size_t n) {
    static const builtin l17 = make_builtin(
        "version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol "
        "tcp-flags type pkt-srcaddr pkt-dstaddr action log-status");
    static const builtin l21 = make_builtin(
        "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport "
        "pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status");
    static const builtin l29 = make_builtin(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id "
        "sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path");
    static const builtin none{};
    switch (n) {
        case 14: return v2_default();
        case 17: return l17;
        case 21: return l21;
        case 29: return l29;
        case 36: return tgw_default();
        default: return none;
    }
}

std::string_view transport_name(std::string_view iana) {
    if (iana == "6") return "tcp";
    if (iana == "17") return "udp";
    if (iana == "1") return "icmp";
    if (iana == "0") return "hopopt";
    if (iana == "2") return "igmp";
    if (iana == "8") return "egp";
    if (iana == "47") return "gre";
    if (iana == "50") return "esp";
    if (iana == "58") return "ipv6-icmp";
    if (iana == "112") return "vrrp";
    if (iana == "132") return "sctp";
    return {};
}

size_t count_fields(std::string_view line) {
    size_t n = 0;
    text::cursor c(line);
    while (c.word()) ++n;
    return n;
}

}  // namespace

bool vpcflow_parser::is_header(std::string_view line) {
    text::cursor c(line);
    size_t n = 0;
    while (auto w = c.word()) {
        if (field_index(*w) == unknown_field) return false;
        ++n;
    }
    return n >= 2;
}

bool looks_like_vpcflow(std::string_view line) {
    if (vpcflow_parser::is_header(line)) return true;
    // version first (a small integer), then mostly '-' or identifiers, no quotes or brackets.
    if (line.size() < 4 || !text::is_digit(line[0]) || line[1] != ' ') return false;
    if (line.find_first_of("\"[]") != std::string_view::npos) return false;
    size_t n = count_fields(line);
    if (n < 6) return false;
    // Something AWS-ish: an account id, eni-, vpc-, tgw- or NODATA/SKIPDATA/OK status.
    return line.find(" eni-") != std::string_view::npos || line.find(" vpc-") != std::string_view::npos ||
           line.find(" tgw-") != std::string_view::npos || line.ends_with(" OK") || line.ends_with("NODATA") ||
           line.ends_with("SKIPDATA") || by_count(n).count == n;
}

status vpcflow_parser::set_fields(std::string_view names) {
    layout l{};
    size_t n = make_layout(l, names);
    if (n == 0) return make_error(exit_code::usage, "vpcflow: invalid field list: " + std::string(names));
    fixed_ = l;
    fixed_fields_ = n;
    return {};
}

std::string_view community_id(std::string_view src_ip, std::string_view dst_ip, uint8_t proto, uint16_t sport,
                              uint16_t dport) {
    auto s = ip::parse(src_ip), d = ip::parse(dst_ip);
    if (!s || !d) return {};
    auto bytes = [](const ip::address& a) -> std::string_view {
        return a.v4 ? std::string_view(reinterpret_cast<const char*>(a.bytes.data()) + 12, 4)
                    : std::string_view(reinterpret_cast<const char*>(a.bytes.data()), 16);
    };
    std::string_view sb = bytes(*s), db = bytes(*d);
    // ICMP: the "ports" are the type and the counterpart type (or the code, for one-way types).
    bool one_way = false;
    if (proto == 1 || proto == 58) {
        static constexpr uint8_t pairs4[][2] = {{8, 0}, {13, 14}, {15, 16}, {17, 18}, {10, 9}};
        static constexpr uint8_t pairs6[][2] = {{128, 129}, {133, 134}, {135, 136}, {130, 131}, {144, 145}, {146, 147}};
        one_way = true;
        auto match = [&](const uint8_t(*pairs)[2], size_t n) {
            for (size_t i = 0; i < n; ++i)
                for (int k = 0; k < 2; ++k)
                    if (sport == pairs[i][k]) {
                        dport = pairs[i][1 - k];
                        one_way = false;
                        return;
                    }
        };
        if (proto == 1) match(pairs4, std::size(pairs4));
        else match(pairs6, std::size(pairs6));
    }
    // Ordered so that both directions of a flow get the same id (shorter addresses first, as
    // Elastic's processor does when the families differ).
    auto less = [](std::string_view a, std::string_view b) { return a.size() != b.size() ? a.size() < b.size() : a < b; };
    if (!one_way && (less(db, sb) || (sb == db && sport > dport))) {
        std::swap(sb, db);
        std::swap(sport, dport);
    }
    unsigned char buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;  // seed 0
    for (char c : sb) buf[n++] = static_cast<unsigned char>(c);
    for (char c : db) buf[n++] = static_cast<unsigned char>(c);
    buf[n++] = proto;
    buf[n++] = 0;
    buf[n++] = static_cast<unsigned char>(sport >> 8);
    buf[n++] = static_cast<unsigned char>(sport);
    buf[n++] = static_cast<unsigned char>(dport >> 8);
    buf[n++] = static_cast<unsigned char>(dport);
    // SHA1() looks the algorithm up on every call (OpenSSL 3): a tenth of the VPC Flow time.
    // The algorithm is fetched once, the context kept per thread.
    static EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned char md[SHA_DIGEST_LENGTH];
    if (!sha1 || !ctx || !EVP_DigestInit_ex2(ctx.get(), sha1, nullptr) || !EVP_DigestUpdate(ctx.get(), buf, n) ||
        !EVP_DigestFinal_ex(ctx.get(), md, nullptr))
        SHA1(buf, n, md);
    static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    thread_local std::string out;
    out.assign("1:");
    for (size_t i = 0; i < SHA_DIGEST_LENGTH; i += 3) {
        uint32_t v = uint32_t(md[i]) << 16;
        if (i + 1 < SHA_DIGEST_LENGTH) v |= uint32_t(md[i + 1]) << 8;
        if (i + 2 < SHA_DIGEST_LENGTH) v |= md[i + 2];
        out.push_back(b64[(v >> 18) & 63]);
        out.push_back(b64[(v >> 12) & 63]);
        out.push_back(i + 1 < SHA_DIGEST_LENGTH ? b64[(v >> 6) & 63] : '=');
        out.push_back(i + 2 < SHA_DIGEST_LENGTH ? b64[v & 63] : '=');
    }
    return out;
}

parse_status vpcflow_parser::parse(std::string_view line, json::doc_builder& doc, bool& header) {
    header = false;
    if (is_header(line)) {
        layout l{};
        size_t n = make_layout(l, line);
        if (n == 0) return reject("vpcflow: invalid header line");
        header_ = l;
        header_fields_ = n;
        header = true;
        return {};
    }
    std::array<std::string_view, max_fields> v{};
    size_t n = 0;
    {
        text::cursor c(line);
        while (auto w = c.word()) {
            if (n == max_fields) return reject("vpcflow: too many fields");
            v[n++] = *w;
        }
    }
    const uint8_t* order = nullptr;
    size_t expected = 0;
    if (fixed_fields_) order = fixed_.data(), expected = fixed_fields_;
    else if (header_fields_) order = header_.data(), expected = header_fields_;
    else {
        const builtin& b = by_count(n);
        if (b.count == 36 && v[1] != "-" && v[1] != "TransitGateway" && v[1] != "VPC") return reject("vpcflow: unknown 36-field layout");
        order = b.fields.data(), expected = b.count;
    }
    if (expected == 0) return reject("vpcflow: " + std::to_string(n) + " fields match no known layout (give --vpcflow-fields or a header line)");
    if (n != expected) return reject("vpcflow: " + std::to_string(n) + " fields where the layout has " + std::to_string(expected));

    std::array<std::string_view, n_special> sp{};
    for (size_t i = 0; i < n; ++i) {
        uint8_t f = order[i];
        if (f < n_special) sp[f] = v[i];
        if (v[i] == "-" || defs[f].target.empty()) continue;
        doc.set_string(defs[f].target, v[i]);
    }
    auto present = [&](special s) { return !sp[s].empty() && sp[s] != "-"; };
    auto epoch = [&](special s) -> std::optional<time::millis> {
        if (!present(s)) return std::nullopt;
        auto secs = text::to_int<int64_t>(sp[s]);
        if (!secs || *secs < 0 || *secs > 253402300799) return std::nullopt;
        return *secs * 1000;
    };
    auto end = epoch(f_end), start = epoch(f_start);
    if (present(f_end) && !end) return reject("vpcflow: end is not epoch seconds");
    if (present(f_start) && !start) return reject("vpcflow: start is not epoch seconds");
    if (!end && !start) return reject("vpcflow: no start or end time");
    text::set_time(doc, "@timestamp", end ? *end : *start);
    if (start) text::set_time(doc, "event.start", *start);
    if (end) text::set_time(doc, "event.end", *end);
    doc.set_string("event.kind", "event");
    doc.push_string("event.category", "network");
    doc.push_string("event.type", "connection");
    doc.set_string("cloud.provider", "aws");
    if (present(f_account)) doc.set_string("cloud.account.id", sp[f_account]);
    if (present(f_instance)) doc.set_string("cloud.instance.id", sp[f_instance]);
    if (present(f_action)) {
        if (sp[f_action] == "ACCEPT") doc.set_string("event.outcome", "success"), doc.set_string("event.action", "accept");
        else if (sp[f_action] == "REJECT") doc.set_string("event.outcome", "failure"), doc.set_string("event.action", "reject");
    }
    bool src_ip = false, dst_ip = false;
    if (present(f_srcaddr)) {
        doc.set_string("source.address", sp[f_srcaddr]);
        if ((src_ip = ip::is_ip(sp[f_srcaddr]))) doc.set_string("source.ip", sp[f_srcaddr]);
        else note_error(doc, "vpcflow: srcaddr is not an IP");
    }
    std::optional<uint16_t> sport, dport;
    if (present(f_srcport)) {
        if ((sport = text::to_int<uint16_t>(sp[f_srcport]))) doc.set_int("source.port", *sport);
        else note_error(doc, "vpcflow: srcport is not a port number");
    }
    if (present(f_dstaddr)) {
        doc.set_string("destination.address", sp[f_dstaddr]);
        if ((dst_ip = ip::is_ip(sp[f_dstaddr]))) doc.set_string("destination.ip", sp[f_dstaddr]);
        else note_error(doc, "vpcflow: dstaddr is not an IP");
    }
    if (present(f_dstport)) {
        if ((dport = text::to_int<uint16_t>(sp[f_dstport]))) doc.set_int("destination.port", *dport);
        else note_error(doc, "vpcflow: dstport is not a port number");
    }
    std::optional<uint8_t> proto;
    if (present(f_protocol)) {
        proto = text::to_int<uint8_t>(sp[f_protocol]);
        if (proto) {
            doc.set_string("network.iana_number", sp[f_protocol]);
            if (auto t = transport_name(sp[f_protocol]); !t.empty()) doc.set_string("network.transport", t);
        } else {
            note_error(doc, "vpcflow: protocol is not a number");
        }
    }
    auto counter = [&](special s, std::string_view a, std::string_view b) {
        if (!present(s)) return;
        if (auto x = text::to_int<int64_t>(sp[s])) doc.set_int(a, *x), doc.set_int(b, *x);
        else note_error(doc, "vpcflow: packets or bytes is not a number");
    };
    counter(f_packets, "source.packets", "network.packets");
    counter(f_bytes, "source.bytes", "network.bytes");
    if (src_ip) doc.set_string("network.type", sp[f_srcaddr].find(':') != std::string_view::npos ? "ipv6" : "ipv4");
    if (src_ip && dst_ip && proto && sport && dport && (*proto == 6 || *proto == 17 || *proto == 132 || *proto == 1 || *proto == 58))
        doc.set_string("network.community_id", community_id(sp[f_srcaddr], sp[f_dstaddr], *proto, *sport, *dport));
    if (src_ip && dst_ip) {
        doc.push_string("related.ip", sp[f_srcaddr]);
        doc.push_string("related.ip", sp[f_dstaddr]);
    }
    if (present(f_tcp_flags)) {
        if (auto flags = text::to_int<uint32_t>(sp[f_tcp_flags])) {
            static constexpr std::string_view names[] = {"fin", "syn", "rst", "psh", "ack", "urg"};
            for (size_t b = 0; b < 6; ++b)
                if (*flags & (1u << b)) doc.push_string("aws.vpcflow.tcp_flags_array", names[b]);
        } else {
            note_error(doc, "vpcflow: tcp-flags is not a number");
        }
    }
    return {};
}

}  // namespace sds::formats
