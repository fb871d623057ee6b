#pragma once
// AWS STS (query API, XML responses): AssumeRole and AssumeRoleWithWebIdentity.
#include <string>
#include <string_view>

#include "sds/aws/credentials.hpp"
#include "sds/core/expected.hpp"
#include "sds/net/http.hpp"

namespace sds::aws {

struct assume_role_params {
    std::string role_arn;
    std::string session_name;      // empty: "sds-<unix time>"
    std::string external_id;       // AssumeRole only
    int duration_seconds = 0;      // 0: the service default (1 h)
};

// The STS endpoint: AWS_ENDPOINT_URL_STS → AWS_ENDPOINT_URL → https://sts.<region>.amazonaws.com.
std::string sts_endpoint(std::string_view region);

// AssumeRole, signed with `base` (SigV4, service "sts").
expected<credentials> assume_role(net::client& http, const credentials& base, const assume_role_params& params,
                                  std::string_view region, std::string_view endpoint);

// AssumeRoleWithWebIdentity (unsigned; the token is the proof).
expected<credentials> assume_role_with_web_identity(net::client& http, std::string_view web_identity_token,
                                                    const assume_role_params& params, std::string_view endpoint);

// Reads <Credentials> out of an STS response, or the <Error> of a failed call.
// `action` and `endpoint` only make messages; `secret` (a token) is masked if a server echoes it.
expected<credentials> parse_sts_response(long status, std::string_view xml, std::string_view action,
                                         std::string_view endpoint, std::string_view secret = {});

}  // namespace sds::aws
