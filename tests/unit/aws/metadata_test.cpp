// Container (ECS) and EC2 instance metadata (IMDSv2) credentials against a local responder.
#include <doctest/doctest.h>

#include "../net/local_http_server.hpp"
#include "aws_test_env.hpp"
#include "sds/aws/credentials.hpp"
#include "sds/aws/metadata.hpp"

using namespace sds;
using sds::test::aws_env_guard;
using sds::test::canned_response;
using sds::test::local_http_server;
using sds::test::seen_request;

namespace {

const std::string creds_json =
    R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret","Token":"container-token",)"
    R"("Expiration":"2099-01-01T00:00:00Z","RoleArn":"arn:aws:iam::1:role/task"})";

canned_response container_handler(const seen_request& r) {
    if (r.target != "/v2/credentials/abc") return {404, {}, "not found"};
    if (r.header("authorization") != "Bearer tok-123") return {401, {}, "unauthorized"};
    return {200, {{"Content-Type", "application/json"}}, creds_json};
}

struct imds_fake {
    std::string token = "imds-session-token";
    canned_response operator()(const seen_request& r) const {
        if (r.method == "PUT" && r.target == "/latest/api/token") {
            if (r.header("x-aws-ec2-metadata-token-ttl-seconds").empty()) return {400, {}, ""};
            return {200, {}, token};
        }
        if (r.header("x-aws-ec2-metadata-token") != token) return {401, {}, ""};
        if (r.target == "/latest/meta-data/iam/security-credentials/") return {200, {}, "my-role\n"};
        if (r.target == "/latest/meta-data/iam/security-credentials/my-role")
            return {200, {}, R"({"Code":"Success","LastUpdated":"2024-01-01T00:00:00Z","Type":"AWS-HMAC",)"
                             R"("AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret","Token":"imds-token",)"
                             R"("Expiration":"2099-01-01T00:00:00Z"})"};
        return {404, {}, ""};
    }
};

}  // namespace

TEST_CASE("container credentials: relative uri on the ecs base with a bearer token") {
    aws_env_guard env;
    local_http_server srv(container_handler);
    env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer tok-123");
    aws::chain_options opt;
    opt.ecs_base_url = srv.url();
    auto r = aws::resolve_chain(opt);
    REQUIRE_MESSAGE(r, (r ? std::string() : r.err().message));
    CHECK(r->first.access_key_id == "ASIACONTAINER");
    CHECK(r->first.secret_access_key == "container-secret");
    CHECK(r->first.session_token == "container-token");
    CHECK(r->first.expiration == aws::parse_iso8601("2099-01-01T00:00:00Z"));
    CHECK(r->source.name == "container");
}

TEST_CASE("container credentials: full uri with the token read from a file") {
    aws_env_guard env;
    local_http_server srv(container_handler);
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.url("/v2/credentials/abc"));
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");  // the file wins
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.write("token", "Bearer tok-123\n"));
    auto r = aws::resolve_chain({});
    REQUIRE_MESSAGE(r, (r ? std::string() : r.err().message));
    CHECK(r->first.access_key_id == "ASIACONTAINER");
}

TEST_CASE("container credentials: a plain-http full uri off loopback is refused") {
    aws_env_guard env;
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.10/creds");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("must use https") != std::string::npos);
}

TEST_CASE("container credentials: a failing endpoint names the status, never the token") {
    aws_env_guard env;
    local_http_server srv(container_handler);
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.url("/v2/credentials/abc"));
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer WRONGTOKENVALUE");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("http 401") != std::string::npos);
    CHECK(r.err().message.find("WRONGTOKENVALUE") == std::string::npos);
}

TEST_CASE("credentials: shared-file keys come before container credentials") {
    aws_env_guard env;
    local_http_server srv(container_handler);
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.url("/v2/credentials/abc"));
    env.write(".aws/credentials", "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=s\n");
    auto r = aws::resolve_chain({});
    REQUIRE(r);
    CHECK(r->first.access_key_id == "AKIDFILE");
    CHECK(srv.requests().empty());
}

TEST_CASE("imds: IMDSv2 puts a token first, then reads the role and its credentials") {
    aws_env_guard env;
    local_http_server srv(imds_fake{});
    env.unset("AWS_EC2_METADATA_DISABLED");
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.url("/"));
    auto r = aws::resolve_chain({});
    REQUIRE_MESSAGE(r, (r ? std::string() : r.err().message));
    CHECK(r->first.access_key_id == "ASIAIMDS");
    CHECK(r->first.session_token == "imds-token");
    CHECK(r->first.source == "instance metadata role my-role");
    auto seen = srv.requests();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].method == "PUT");
    CHECK(seen[0].target == "/latest/api/token");
    CHECK(seen[0].header("x-aws-ec2-metadata-token-ttl-seconds") == "21600");
    CHECK(seen[1].target == "/latest/meta-data/iam/security-credentials/");
    CHECK(seen[2].header("x-aws-ec2-metadata-token") == "imds-session-token");
}

TEST_CASE("imds: container credentials come before instance metadata") {
    aws_env_guard env;
    local_http_server imds(imds_fake{});
    local_http_server ecs(container_handler);
    env.unset("AWS_EC2_METADATA_DISABLED");
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url());
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ecs.url("/v2/credentials/abc"));
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer tok-123");
    auto r = aws::resolve_chain({});
    REQUIRE(r);
    CHECK(r->first.access_key_id == "ASIACONTAINER");
    CHECK(imds.requests().empty());
}

TEST_CASE("imds: AWS_EC2_METADATA_DISABLED=true skips instance metadata") {
    aws_env_guard env;
    local_http_server srv(imds_fake{});
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.url());
    env.set("AWS_EC2_METADATA_DISABLED", "TRUE");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(srv.requests().empty());
    CHECK_FALSE(aws::imds_source(std::chrono::milliseconds(100)).has_value());
}

TEST_CASE("imds: an instance without a role is reported as such") {
    aws_env_guard env;
    local_http_server srv([](const seen_request& r) -> canned_response {
        if (r.method == "PUT") return {200, {}, "t"};
        return {404, {}, ""};
    });
    env.unset("AWS_EC2_METADATA_DISABLED");
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.url());
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("no iam role attached to this instance") != std::string::npos);
}

TEST_CASE("imds: an unreachable endpoint fails fast with the chain's message") {
    aws_env_guard env;
    int port;
    {
        local_http_server gone([](const seen_request&) { return canned_response{}; });
        port = gone.port();
    }
    env.unset("AWS_EC2_METADATA_DISABLED");
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(port));
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.rfind("no aws credentials found", 0) == 0);
    CHECK(r.err().message.find("instance metadata credentials failed") != std::string::npos);
}

TEST_CASE("credentials_provider: make_default refreshes container credentials before they expire") {
    aws_env_guard env;
    int served = 0;
    local_http_server srv([&](const seen_request&) {
        ++served;
        auto exp = aws::format_iso8601(std::chrono::system_clock::now() + std::chrono::minutes(2));
        return canned_response{200, {},
                               R"({"AccessKeyId":"ASIA)" + std::to_string(served) +
                                   R"(","SecretAccessKey":"s","Token":"t","Expiration":")" + exp + "\"}"};
    });
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.url("/c"));
    auto p = aws::credentials_provider::make_default();
    REQUIRE(p);
    // Expires in 2 minutes, inside the 5-minute margin: every get() refreshes.
    auto a = (*p)->get();
    REQUIRE(a);
    CHECK(a->access_key_id == "ASIA2");
    CHECK((*p)->get()->access_key_id == "ASIA3");
    CHECK((*p)->source_name() == "container");
}

TEST_CASE("metadata: credential json parsing rejects what is not credentials") {
    CHECK_FALSE(aws::parse_credentials_json("not json", "x"));
    CHECK_FALSE(aws::parse_credentials_json(R"({"Code":"AssumeRoleUnauthorizedAccess"})", "x"));
    CHECK_FALSE(aws::parse_credentials_json(R"({"AccessKeyId":"A"})", "x"));
    auto bad = aws::parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})", "x");
    REQUIRE_FALSE(bad);
    CHECK(bad.err().message.find("S\"") == std::string::npos);
    auto ok = aws::parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S"})", "x");
    REQUIRE(ok);
    CHECK_FALSE(ok->expiration);
}
