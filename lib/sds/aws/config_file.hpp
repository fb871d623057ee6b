#pragma once
// The AWS CLI's shared files: ~/.aws/credentials ([name] sections) and ~/.aws/config
// ([default] and [profile name] sections), located through AWS_SHARED_CREDENTIALS_FILE and
// AWS_CONFIG_FILE.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sds/core/expected.hpp"

namespace sds::aws {

using ini_section = std::map<std::string, std::string>;
using ini_sections = std::map<std::string, ini_section>;

// INI as the AWS CLI reads it: "[section]", "key = value", '#'/';' comment lines, and indented
// "sub = value" lines under an empty-valued key stored as "key.sub" (e.g. "s3.addressing_style").
expected<ini_sections> parse_ini(std::string_view text, std::string_view where);

struct shared_config {
    std::string credentials_path;
    std::string config_path;
    ini_sections credentials;  // by profile name
    ini_sections profiles;     // config file, by profile name ("profile x" → "x")

    bool has_profile(std::string_view name) const;
    // A profile's setting: the credentials file first, then the config file.
    std::optional<std::string> get(std::string_view profile, std::string_view key) const;
};

// Reads both files (a missing file is empty, an unreadable or malformed one an error).
expected<shared_config> load_shared_config();

// The profile in use: explicit → AWS_PROFILE → AWS_DEFAULT_PROFILE → "default".
std::string active_profile(std::string_view explicit_profile);

// The value of an environment variable, or empty.
std::string env_or_empty(const char* name);

// Region: explicit → AWS_REGION → AWS_DEFAULT_REGION → the profile's `region` → "us-east-1".
std::string resolve_region(std::string_view explicit_region, std::string_view explicit_profile = {});

}  // namespace sds::aws
