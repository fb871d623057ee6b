#pragma once
// Amazon VPC Flow Logs and Transit Gateway Flow Logs (space-separated text records), as
// Elastic's aws.vpcflow pipeline maps them.
//
// The field order comes from, in this order of precedence:
//   1. set_fields("version account-id …") (the tool's --vpcflow-fields),
//   2. the file's header line, which parse() recognises, adopts and reports as a header (the
//      caller does not emit it as a record; it counts it as filtered),
//   3. otherwise the number of fields: 14 = the v2 default format, 36 with a resource type of
//      "-" or "TransitGateway" = the TGW default format, 17/21/29 = the layouts Elastic knows.
// One parser per input stream (a header applies to the lines after it).
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sds/formats/text_format.hpp"

namespace sds::formats {

bool looks_like_vpcflow(std::string_view line);

class vpcflow_parser {
public:
    static constexpr size_t max_fields = 64;

    // Takes a custom field list (space- or comma-separated AWS field names, with or without
    // ${…}). Returns an error for an unknown field name.
    status set_fields(std::string_view names);
    // Forgets a layout learnt from a header (set_fields stays).
    void reset_header() { header_fields_ = 0; }

    // The layout learnt from a header, as a value: lets a caller that splits one stream over
    // several parsers (sds-normalize --threads) carry it from one to the next.
    struct header_state {
        std::array<uint8_t, max_fields> fields{};
        size_t count = 0;  // 0: no header seen
        bool operator==(const header_state& o) const noexcept {
            return count == o.count && std::equal(fields.begin(), fields.begin() + count, o.fields.begin());
        }
    };
    header_state header() const noexcept { return {header_, header_fields_}; }
    void set_header(const header_state& h) noexcept {
        header_ = h.fields;
        header_fields_ = h.count;
    }

    // A record: fills doc. A header line: adopts it as the layout, leaves doc alone and sets
    // header = true. Anything else: a rejection with the reason.
    parse_status parse(std::string_view line, json::doc_builder& doc, bool& header);

    // A line of field names ("version account-id interface-id …").
    static bool is_header(std::string_view line);

private:
    using layout = std::array<uint8_t, max_fields>;
    layout fixed_{}, header_{};
    size_t fixed_fields_ = 0, header_fields_ = 0;
};

// Community ID v1 (https://github.com/corelight/community-id-spec) of a flow, "1:<base64>";
// for ICMP the ports are the type and code. Empty when it cannot be computed (not IPs). The view is valid until the next call (thread-local).
std::string_view community_id(std::string_view src_ip, std::string_view dst_ip, uint8_t proto, uint16_t sport, uint16_t dport);

}  // namespace sds::formats
