// STS AssumeRole / AssumeRoleWithWebIdentity against moto_server (skipped if it is absent) and
// against a local responder for error handling.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "../net/local_http_server.hpp"
#include "aws_test_env.hpp"
#include "sds/aws/credentials.hpp"
#include "sds/aws/sts.hpp"

using namespace sds;
using sds::test::aws_env_guard;
using sds::test::canned_response;
using sds::test::local_http_server;
using sds::test::seen_request;

namespace {

std::string find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "";
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find(':', start);
        std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string full = (dir.empty() ? "." : dir) + "/" + name;
        if (::access(full.c_str(), X_OK) == 0) return full;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return {};
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

bool can_connect(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// One moto_server for the whole test run, started on first use, stopped at exit.
class moto {
public:
    static moto* get() {
        static std::unique_ptr<moto> instance = [] {
            auto m = std::make_unique<moto>();
            return m->start() ? std::move(m) : nullptr;
        }();
        return instance.get();
    }
    ~moto() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGTERM);  // its own process group: the shim and the server
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    bool start() {
        std::string exe = find_in_path("moto_server");
        if (exe.empty()) return false;
        port_ = free_port();
        std::string port = std::to_string(port_);
        std::fflush(nullptr);  // the child must not replay our buffered output
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // dies with the test binary, even on a crash
            ::freopen("/dev/null", "w", stdout);
            ::freopen("/dev/null", "w", stderr);
            ::execl(exe.c_str(), exe.c_str(), "-H", "127.0.0.1", "-p", port.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        if (pid_ < 0) return false;
        ::setpgid(pid_, pid_);
        for (int i = 0; i < 300; ++i) {  // up to 30 s
            if (can_connect(port_)) return true;
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
    pid_t pid_ = -1;
    int port_ = 0;
};

#define SDS_REQUIRE_MOTO(m)                                                                  \
    auto* m = moto::get();                                                                   \
    if (!m) {                                                                                \
        MESSAGE("skipped: moto_server is not installed or did not start (pip install moto[server])"); \
        return;                                                                              \
    }

bool in_future(const aws::credentials& c) {
    return c.expiration && *c.expiration > std::chrono::system_clock::now() + std::chrono::minutes(10);
}

}  // namespace

TEST_CASE("sts: AssumeRole against moto returns temporary credentials with an expiration") {
    SDS_REQUIRE_MOTO(m);
    net::client http;
    aws::credentials base{"AKIDBASE", "base-secret", "", std::nullopt, {}};
    aws::assume_role_params p;
    p.role_arn = "arn:aws:iam::123456789012:role/reader";
    p.session_name = "unit-test";
    p.external_id = "ext-1";
    auto c = aws::assume_role(http, base, p, "us-east-1", m->url());
    REQUIRE_MESSAGE(c, (c ? std::string() : c.err().message));
    CHECK(c->access_key_id.rfind("ASIA", 0) == 0);
    CHECK_FALSE(c->secret_access_key.empty());
    CHECK_FALSE(c->session_token.empty());
    CHECK(in_future(*c));
    CHECK(c->source == "assume role arn:aws:iam::123456789012:role/reader");
}

TEST_CASE("sts: profile role_arn + source_profile assumes the role through AWS_ENDPOINT_URL_STS") {
    SDS_REQUIRE_MOTO(m);
    aws_env_guard env;
    env.set("AWS_ENDPOINT_URL_STS", m->url());
    env.write(".aws/credentials", "[base]\naws_access_key_id=AKIDBASE\naws_secret_access_key=base-secret\n");
    env.write(".aws/config",
              "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n"
              "role_session_name = sds-test\nregion = eu-central-1\n"
              "[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/second\nsource_profile = ops\n");
    aws::chain_options opt;
    opt.profile = "ops";
    auto r = aws::resolve_chain(opt);
    REQUIRE_MESSAGE(r, (r ? std::string() : r.err().message));
    CHECK(r->first.access_key_id.rfind("ASIA", 0) == 0);
    CHECK(r->first.access_key_id != "AKIDBASE");
    CHECK(in_future(r->first));
    CHECK(r->source.name == "assume role arn:aws:iam::123456789012:role/ops");

    opt.profile = "chained";  // role → role → keys
    auto c = aws::resolve_chain(opt);
    REQUIRE_MESSAGE(c, (c ? std::string() : c.err().message));
    CHECK(c->source.name == "assume role arn:aws:iam::123456789012:role/second");
}

TEST_CASE("sts: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN go through AssumeRoleWithWebIdentity") {
    SDS_REQUIRE_MOTO(m);
    aws_env_guard env;
    env.set("AWS_ENDPOINT_URL", m->url());
    env.set("AWS_WEB_IDENTITY_TOKEN_FILE", env.write("token.jwt", "eyJhbGciOiJSUzI1NiJ9.e30.sig\n"));
    env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
    env.set("AWS_ROLE_SESSION_NAME", "pod");
    auto r = aws::resolve_chain({});
    REQUIRE_MESSAGE(r, (r ? std::string() : r.err().message));
    CHECK(r->first.access_key_id.rfind("ASIA", 0) == 0);
    CHECK(in_future(r->first));
    CHECK(r->source.name == "web identity arn:aws:iam::123456789012:role/irsa");
    // The provider refreshes through the same source.
    aws::credentials_provider p(r->source);
    auto again = p.get();
    REQUIRE(again);
    CHECK(again->access_key_id.rfind("ASIA", 0) == 0);
}

TEST_CASE("sts: a profile's web_identity_token_file goes through AssumeRoleWithWebIdentity") {
    SDS_REQUIRE_MOTO(m);
    aws_env_guard env;
    env.set("AWS_ENDPOINT_URL_STS", m->url());
    auto tf = env.write("tok", "header.payload.sig");
    env.write(".aws/config", "[profile wi]\nrole_arn = arn:aws:iam::123456789012:role/wi\nweb_identity_token_file = " +
                                 tf + "\n");
    env.set("AWS_PROFILE", "wi");
    auto r = aws::resolve_chain({});
    REQUIRE_MESSAGE(r, (r ? std::string() : r.err().message));
    CHECK(r->source.name == "web identity arn:aws:iam::123456789012:role/wi");
    CHECK(in_future(r->first));
}

TEST_CASE("sts: an error response is one line with the code, the token masked") {
    local_http_server srv([](const seen_request& r) {
        std::string echoed = r.body.substr(0, 200);
        return canned_response{403, {},
                               "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>nope for "
                               "SECRETWEBTOKEN</Message></Error></ErrorResponse>"};
    });
    net::client http;
    aws::assume_role_params p;
    p.role_arn = "arn:aws:iam::1:role/x";
    auto c = aws::assume_role_with_web_identity(http, "SECRETWEBTOKEN", p, srv.url());
    REQUIRE_FALSE(c);
    CHECK(c.err().message == "sts AssumeRoleWithWebIdentity failed: " + srv.url() +
                                 " (http 403 AccessDenied: nope for ****)");
    REQUIRE(srv.requests().size() == 1);
    CHECK(srv.requests()[0].body.find("WebIdentityToken=SECRETWEBTOKEN") != std::string::npos);
    CHECK(srv.requests()[0].header("authorization").empty());  // web identity is unsigned
}

TEST_CASE("sts: AssumeRole is a signed form POST to the sts endpoint") {
    local_http_server srv([](const seen_request&) {
        return canned_response{200, {},
                               "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId>"
                               "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
                               "<Expiration>2099-01-01T00:00:00.123Z</Expiration></Credentials></AssumeRoleResult>"
                               "</AssumeRoleResponse>"};
    });
    net::client http;
    aws::credentials base{"AKIDBASE", "base-secret", "base-token", std::nullopt, {}};
    aws::assume_role_params p;
    p.role_arn = "arn:aws:iam::1:role/x y";
    p.session_name = "s";
    p.duration_seconds = 900;
    auto c = aws::assume_role(http, base, p, "eu-west-1", srv.url());
    REQUIRE(c);
    CHECK(c->expiration == aws::parse_iso8601("2099-01-01T00:00:00Z"));
    auto req = srv.requests().at(0);
    CHECK(req.method == "POST");
    CHECK(req.body == "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx%20y"
                      "&RoleSessionName=s&DurationSeconds=900");
    CHECK(req.header("authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDBASE/", 0) == 0);
    CHECK(req.header("authorization").find("/eu-west-1/sts/aws4_request") != std::string::npos);
    CHECK(req.header("x-amz-security-token") == "base-token");
    CHECK(req.header("content-type") == "application/x-www-form-urlencoded; charset=utf-8");
}

TEST_CASE("sts: endpoint from AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, or the region") {
    aws_env_guard env;
    CHECK(aws::sts_endpoint("eu-west-3") == "https://sts.eu-west-3.amazonaws.com");
    CHECK(aws::sts_endpoint("cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn");
    env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
    CHECK(aws::sts_endpoint("eu-west-3") == "http://127.0.0.1:1");
    env.set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:2");
    CHECK(aws::sts_endpoint("eu-west-3") == "http://127.0.0.1:2");
}
