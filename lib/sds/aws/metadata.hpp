#pragma once
// Credentials from the machine the program runs on: ECS/EKS container endpoints and EC2
// instance metadata (IMDSv2).
#include <chrono>
#include <optional>
#include <string>

#include "sds/aws/credentials.hpp"
#include "sds/core/expected.hpp"
#include "sds/net/http.hpp"

namespace sds::aws {

// Container credentials, if AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on `ecs_base_url`) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI is set; the token comes from
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read every time) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
// nullopt: not configured.
std::optional<credentials_source> container_source(const std::string& ecs_base_url,
                                                   std::chrono::milliseconds timeout);

// IMDSv2: PUT a session token, GET the role name, GET the role's credentials.
// Base URL from AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254);
// nullopt when AWS_EC2_METADATA_DISABLED=true.
std::optional<credentials_source> imds_source(std::chrono::milliseconds timeout);

// Parses the JSON both endpoints answer with ({"AccessKeyId","SecretAccessKey","Token","Expiration"}).
expected<credentials> parse_credentials_json(std::string_view json, std::string_view where);

}  // namespace sds::aws
