// The default credential chain, in the AWS CLI's order.
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "sds/aws/config_file.hpp"
#include "sds/aws/credentials.hpp"
#include "sds/aws/metadata.hpp"
#include "sds/aws/sts.hpp"

namespace sds::aws {
namespace {

error config_error(const std::string& msg) { return make_error(exit_code::usage, msg); }

credentials_source fixed(std::string name, credentials c) {
    c.source = name;
    return {name, [c]() -> expected<credentials> { return c; }};
}

// nullopt: no environment keys. Error: only half of them.
expected<std::optional<credentials_source>> environment_source() {
    std::string id = env_or_empty("AWS_ACCESS_KEY_ID");
    std::string secret = env_or_empty("AWS_SECRET_ACCESS_KEY");
    if (id.empty() && secret.empty()) return std::optional<credentials_source>();
    if (id.empty() || secret.empty())
        return config_error("incomplete aws credentials: environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together)");
    credentials c;
    c.access_key_id = id;
    c.secret_access_key = secret;
    c.session_token = env_or_empty("AWS_SESSION_TOKEN");
    if (c.session_token.empty()) c.session_token = env_or_empty("AWS_SECURITY_TOKEN");
    std::string exp = env_or_empty("AWS_CREDENTIAL_EXPIRATION");
    if (!exp.empty()) c.expiration = parse_iso8601(exp);
    return std::optional<credentials_source>(fixed("environment", std::move(c)));
}

expected<std::string> read_token_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(exit_code::usage, "cannot read web identity token file: " + path + " (missing or unreadable)");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    return t;
}

credentials_source web_identity(std::string token_file, assume_role_params params, std::string region) {
    auto http = std::make_shared<net::client>();
    std::string name = "web identity " + params.role_arn;
    return {name, [=]() -> expected<credentials> {
                auto token = read_token_file(token_file);
                if (!token) return token.err();
                return assume_role_with_web_identity(*http, *token, params, sts_endpoint(region));
            }};
}

credentials_source assumed_role(std::shared_ptr<credentials_provider> base, assume_role_params params,
                                std::string region) {
    auto http = std::make_shared<net::client>();
    std::string name = "assume role " + params.role_arn;
    return {name, [=]() -> expected<credentials> {
                auto b = base->get();
                if (!b) return b.err();
                return assume_role(*http, *b, params, region, sts_endpoint(region));
            }};
}

struct chain_context {
    const shared_config& cfg;
    const chain_options& opt;
    std::string region;
};

expected<std::optional<credentials_source>> profile_source(const chain_context& ctx, const std::string& profile,
                                                           std::set<std::string>& visited);

// The credentials a role profile starts from: source_profile or credential_source.
expected<credentials_source> role_base(const chain_context& ctx, const std::string& profile,
                                       std::set<std::string>& visited) {
    const auto& cfg = ctx.cfg;
    const std::string where = "profile " + profile;
    if (auto sp = cfg.get(profile, "source_profile")) {
        if (*sp == profile) {  // a role profile may carry its own long-term keys
            auto id = cfg.get(profile, "aws_access_key_id");
            auto secret = cfg.get(profile, "aws_secret_access_key");
            if (!id || !secret) return config_error("invalid aws profile: " + where + " (source_profile is itself but it has no keys)");
            credentials c{*id, *secret, cfg.get(profile, "aws_session_token").value_or(""), std::nullopt, {}};
            return fixed(where, std::move(c));
        }
        if (!cfg.has_profile(*sp)) return config_error("invalid aws profile: " + where + " (source_profile " + *sp + " not found)");
        auto src = profile_source(ctx, *sp, visited);
        if (!src) return src.err();
        if (!*src) return config_error("invalid aws profile: " + where + " (source_profile " + *sp + " has no credentials)");
        return std::move(**src);
    }
    auto cs = cfg.get(profile, "credential_source");
    if (!cs) return config_error("invalid aws profile: " + where + " (role_arn needs source_profile, credential_source or web_identity_token_file)");
    if (*cs == "Environment") {
        auto env = environment_source();
        if (!env) return env.err();
        if (!*env) return config_error("invalid aws profile: " + where + " (credential_source Environment but no keys in the environment)");
        return std::move(**env);
    }
    if (*cs == "EcsContainer") {
        auto c = container_source(ctx.opt.ecs_base_url, ctx.opt.metadata_timeout);
        if (!c) return config_error("invalid aws profile: " + where + " (credential_source EcsContainer but no container endpoint is set)");
        return std::move(*c);
    }
    if (*cs == "Ec2InstanceMetadata") {
        auto c = imds_source(ctx.opt.metadata_timeout);
        if (!c) return config_error("invalid aws profile: " + where + " (credential_source Ec2InstanceMetadata but instance metadata is disabled)");
        return std::move(*c);
    }
    return config_error("invalid aws profile: " + where + " (unknown credential_source " + *cs + ")");
}

expected<std::optional<credentials_source>> profile_source(const chain_context& ctx, const std::string& profile,
                                                           std::set<std::string>& visited) {
    const auto& cfg = ctx.cfg;
    if (!visited.insert(profile).second)
        return config_error("invalid aws profile: profile " + profile + " (source_profile loop)");
    if (auto role = cfg.get(profile, "role_arn")) {
        assume_role_params p;
        p.role_arn = *role;
        p.session_name = cfg.get(profile, "role_session_name").value_or("");
        p.external_id = cfg.get(profile, "external_id").value_or("");
        if (auto d = cfg.get(profile, "duration_seconds")) p.duration_seconds = std::atoi(d->c_str());
        if (cfg.get(profile, "mfa_serial"))
            return config_error("unsupported aws profile: profile " + profile + " (mfa_serial needs an interactive prompt)");
        if (auto tf = cfg.get(profile, "web_identity_token_file"))
            return std::optional<credentials_source>(web_identity(*tf, p, ctx.region));
        auto base = role_base(ctx, profile, visited);
        if (!base) return base.err();
        auto base_provider = std::make_shared<credentials_provider>(std::move(*base));
        return std::optional<credentials_source>(assumed_role(base_provider, p, ctx.region));
    }
    auto id = cfg.get(profile, "aws_access_key_id");
    auto secret = cfg.get(profile, "aws_secret_access_key");
    if (id || secret) {
        if (!id || !secret)
            return config_error("incomplete aws credentials: profile " + profile + " (aws_access_key_id and aws_secret_access_key go together)");
        credentials c{*id, *secret, cfg.get(profile, "aws_session_token").value_or(""), std::nullopt, {}};
        return std::optional<credentials_source>(fixed("profile " + profile, std::move(c)));
    }
    if (cfg.get(profile, "sso_session") || cfg.get(profile, "sso_start_url"))
        return config_error("unsupported aws profile: profile " + profile + " (sso profiles are not supported; use aws configure export-credentials)");
    if (cfg.get(profile, "credential_process"))
        return config_error("unsupported aws profile: profile " + profile + " (credential_process is not supported)");
    return std::optional<credentials_source>();
}

}  // namespace

expected<resolved_source> resolve_chain(const chain_options& opt) {
    auto first = [](credentials_source src) -> expected<resolved_source> {
        auto c = src.fetch();
        if (!c) return c.err();
        return resolved_source{std::move(src), std::move(*c)};
    };
    const bool explicit_profile = !opt.profile.empty();
    // An explicit --profile means "these credentials", so environment keys do not override it.
    if (!explicit_profile) {
        auto env = environment_source();
        if (!env) return env.err();
        if (*env) return first(std::move(**env));
    }
    auto cfg = load_shared_config();
    if (!cfg) return cfg.err();
    const std::string profile = active_profile(opt.profile);
    const bool named = explicit_profile || profile != "default";
    if (named && !cfg->has_profile(profile))
        return config_error("aws profile not found: " + profile + " (looked in " + cfg->credentials_path + " and " +
                            cfg->config_path + ")");
    chain_context ctx{*cfg, opt, resolve_region(opt.region, opt.profile)};

    // Web identity from the environment (EKS IRSA) comes before the shared files' static keys,
    // but after a role profile.
    std::set<std::string> visited;
    bool role_profile = cfg->get(profile, "role_arn").has_value();
    std::string env_token_file = env_or_empty("AWS_WEB_IDENTITY_TOKEN_FILE");
    std::string env_role = env_or_empty("AWS_ROLE_ARN");
    if (!role_profile && !env_token_file.empty() && !env_role.empty()) {
        assume_role_params p;
        p.role_arn = env_role;
        p.session_name = env_or_empty("AWS_ROLE_SESSION_NAME");
        return first(web_identity(env_token_file, p, ctx.region));
    }
    auto src = profile_source(ctx, profile, visited);
    if (!src) return src.err();
    if (*src) return first(std::move(**src));

    if (auto c = container_source(opt.ecs_base_url, opt.metadata_timeout)) return first(std::move(*c));
    std::string imds_why = "disabled";
    if (auto i = imds_source(opt.metadata_timeout)) {
        auto r = first(std::move(*i));
        if (r) return r;
        imds_why = r.err().message;
    }
    return make_error(exit_code::runtime,
                      "no aws credentials found: environment, profile " + profile + ", container, instance metadata (" +
                          imds_why + ")");
}

expected<std::shared_ptr<credentials_provider>> credentials_provider::make_default(const chain_options& opt) {
    auto r = resolve_chain(opt);
    if (!r) return r.err();
    return std::make_shared<credentials_provider>(std::move(r->source), std::move(r->first));
}

}  // namespace sds::aws
