#pragma once
// AWS credentials and the provider that keeps them fresh.
//
// The chain follows the AWS CLI: environment → shared credentials/config files (static keys,
// role_arn + source_profile / credential_source through STS AssumeRole, web identity) →
// ECS container credentials → EC2 instance metadata (IMDSv2).
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "sds/core/expected.hpp"

namespace sds::aws {

struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // empty for long-term keys
    std::optional<std::chrono::system_clock::time_point> expiration;  // none = does not expire
    std::string source;  // which provider produced them ("environment", "profile dev", …)

    // "AKIA…XMPL (secret ****, session token ****, expires 2024-01-01T00:00:00Z, from environment)"
    // — never the secret or the token.
    std::string redacted() const;
};

// Where credentials come from, as a refreshable function.
struct credentials_source {
    std::string name;
    std::function<expected<credentials>()> fetch;
};

struct chain_options {
    std::string profile;  // explicit --profile: beats AWS_PROFILE and skips environment keys
    std::string region;   // explicit --region (for STS)
    // Base of container credentials for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (tests override).
    std::string ecs_base_url = "http://169.254.170.2";
    std::chrono::milliseconds metadata_timeout{1000};  // IMDS / container connect+total timeout
};

// Walks the chain once and returns the first source that yields credentials, with those
// credentials already fetched. Error when none does, naming what was tried.
struct resolved_source {
    credentials_source source;
    credentials first;
};
expected<resolved_source> resolve_chain(const chain_options& opt);

// Thread-safe holder of credentials: refreshes them through the source when they expire
// within `margin`. A failed refresh keeps the old credentials while they are still valid.
class credentials_provider {
public:
    using clock_fn = std::function<std::chrono::system_clock::time_point()>;

    credentials_provider(credentials_source source, std::optional<credentials> initial = std::nullopt,
                         std::chrono::seconds margin = std::chrono::minutes(5), clock_fn clock = {});

    // The default chain (resolve_chain) behind a provider.
    static expected<std::shared_ptr<credentials_provider>> make_default(const chain_options& opt = {});

    expected<credentials> get();
    const std::string& source_name() const { return source_.name; }

private:
    credentials_source source_;
    std::optional<credentials> cached_;
    std::chrono::seconds margin_;
    clock_fn clock_;
    std::mutex mutex_;
};

// Parses ISO 8601 UTC times as AWS sends them: 2015-08-30T12:36:00Z, with optional fraction.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);
std::string format_iso8601(std::chrono::system_clock::time_point t);

}  // namespace sds::aws
