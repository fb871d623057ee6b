#pragma once
// The formats sds-normalize knows: names for --format/--list-formats, the dataset and module
// each writes, and detection of a record's format (auto mode).
#include <simdjson.h>

#include <optional>
#include <span>
#include <string_view>

#include "sds/formats/json_format.hpp"

namespace sds::normalize {

enum class format_id { cloudtrail, waf, guardduty, securityhub, health, suricata, alb, vpcflow, squid, nginx, apache };

struct format_info {
    format_id id;
    std::string_view name;
    std::string_view dataset;  // event.dataset
    std::string_view module;   // event.module
    bool json;                 // a JSON source (else a text line, {"message":...} when wrapped)
    bool available;            // parser built into this version
    std::string_view summary;
};

std::span<const format_info> formats();
const format_info& info(format_id id);
std::optional<format_id> by_name(std::string_view name);

// Detects the JSON format of a record by its keys; nullopt when none matches.
std::optional<format_id> detect_json(formats::object rec);

}  // namespace sds::normalize
