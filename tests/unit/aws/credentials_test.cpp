#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "aws_test_env.hpp"
#include "sds/aws/config_file.hpp"
#include "sds/aws/credentials.hpp"

using namespace sds;
using sds::test::aws_env_guard;

namespace {

const std::string creds_file =
    "[default]\naws_access_key_id = AKIDFILEDEFAULT\naws_secret_access_key = secret-file-default\n"
    "\n# a comment\n[dev]\naws_access_key_id=AKIDFILEDEV\naws_secret_access_key=secret-file-dev\n"
    "aws_session_token = token-file-dev\n";
const std::string config_file =
    "[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\n"
    "[profile cfgonly]\naws_access_key_id = AKIDCONFIGONLY\naws_secret_access_key = secret-config-only\n"
    "s3 =\n  addressing_style = path\n[profile sso]\nsso_session = corp\n[sso-session corp]\nsso_region = x\n";

void write_files(aws_env_guard& env) {
    env.write(".aws/credentials", creds_file);
    env.write(".aws/config", config_file);
}

std::string chain_key(const aws::chain_options& opt = {}) {
    auto r = aws::resolve_chain(opt);
    if (!r) return "error: " + r.err().message;
    return r->first.access_key_id;
}

}  // namespace

TEST_CASE("credentials: environment keys come first in the chain") {
    aws_env_guard env;
    write_files(env);
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "secret-env");
    env.set("AWS_SESSION_TOKEN", "token-env");
    auto r = aws::resolve_chain({});
    REQUIRE(r);
    CHECK(r->first.access_key_id == "AKIDENV");
    CHECK(r->first.session_token == "token-env");
    CHECK(r->source.name == "environment");
    env.set("AWS_PROFILE", "dev");  // AWS_PROFILE does not beat environment keys
    CHECK(chain_key() == "AKIDENV");
}

TEST_CASE("credentials: an explicit profile skips environment keys") {
    aws_env_guard env;
    write_files(env);
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "secret-env");
    aws::chain_options opt;
    opt.profile = "dev";
    auto r = aws::resolve_chain(opt);
    REQUIRE(r);
    CHECK(r->first.access_key_id == "AKIDFILEDEV");
    CHECK(r->first.session_token == "token-file-dev");
    CHECK(r->first.source == "profile dev");
}

TEST_CASE("credentials: shared files, default profile and AWS_PROFILE") {
    aws_env_guard env;
    write_files(env);
    CHECK(chain_key() == "AKIDFILEDEFAULT");
    env.set("AWS_PROFILE", "dev");
    CHECK(chain_key() == "AKIDFILEDEV");
    env.set("AWS_PROFILE", "cfgonly");  // keys in the config file only
    CHECK(chain_key() == "AKIDCONFIGONLY");
}

TEST_CASE("credentials: AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files") {
    aws_env_guard env;
    auto c = env.write("elsewhere/creds", "[other]\naws_access_key_id=AKIDMOVED\naws_secret_access_key=s\n");
    auto g = env.write("elsewhere/conf", "[profile other]\nregion = sa-east-1\n");
    env.set("AWS_SHARED_CREDENTIALS_FILE", c);
    env.set("AWS_CONFIG_FILE", g);
    env.set("AWS_PROFILE", "other");
    CHECK(chain_key() == "AKIDMOVED");
    CHECK(aws::resolve_region("") == "sa-east-1");
}

TEST_CASE("credentials: the credentials file beats the config file for the same profile") {
    aws_env_guard env;
    env.write(".aws/credentials", "[default]\naws_access_key_id=AKIDCREDS\naws_secret_access_key=a\n");
    env.write(".aws/config", "[default]\naws_access_key_id=AKIDCONF\naws_secret_access_key=b\n");
    CHECK(chain_key() == "AKIDCREDS");
}

TEST_CASE("credentials: a named profile that does not exist is an error") {
    aws_env_guard env;
    write_files(env);
    env.set("AWS_PROFILE", "nope");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.rfind("aws profile not found: nope", 0) == 0);
    CHECK(r.err().code == exit_code::usage);
}

TEST_CASE("credentials: half of the environment keys is an error") {
    aws_env_guard env;
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("incomplete aws credentials") == 0);
}

TEST_CASE("credentials: nothing configured is 'no aws credentials found'") {
    aws_env_guard env;
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.rfind("no aws credentials found", 0) == 0);
    CHECK(r.err().message.find("disabled") != std::string::npos);
}

TEST_CASE("credentials: sso profiles are refused with a clear message") {
    aws_env_guard env;
    write_files(env);
    env.set("AWS_PROFILE", "sso");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("sso profiles are not supported") != std::string::npos);
}

TEST_CASE("credentials: role_arn without a source is a configuration error") {
    aws_env_guard env;
    env.write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
                             "[profile loop1]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop2\n"
                             "[profile loop2]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop1\n");
    aws::chain_options opt;
    opt.profile = "r";
    auto r = aws::resolve_chain(opt);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("role_arn needs source_profile") != std::string::npos);
    opt.profile = "loop1";
    r = aws::resolve_chain(opt);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("source_profile loop") != std::string::npos);
}

TEST_CASE("config_file: sections, comments, nested keys, profile prefixes") {
    auto ini = aws::parse_ini("# c\n[a]\nk = v\n; c\ns3 =\n  addressing_style = path\n[b]\nx=1=2\n", "f");
    REQUIRE(ini);
    CHECK((*ini)["a"]["k"] == "v");
    CHECK((*ini)["a"]["s3.addressing_style"] == "path");
    CHECK((*ini)["b"]["x"] == "1=2");
    auto bad = aws::parse_ini("k = v\n", "f");
    REQUIRE_FALSE(bad);
    CHECK(bad.err().message == "invalid aws config: f:1 (setting outside of a section)");
    aws_env_guard env;
    write_files(env);
    auto cfg = aws::load_shared_config();
    REQUIRE(cfg);
    CHECK(cfg->has_profile("cfgonly"));
    CHECK_FALSE(cfg->has_profile("corp"));       // sso-session sections are not profiles
    CHECK_FALSE(cfg->has_profile("profile dev"));
    CHECK(cfg->get("cfgonly", "s3.addressing_style") == std::optional<std::string>("path"));
}

TEST_CASE("region: explicit, AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1") {
    aws_env_guard env;
    CHECK(aws::resolve_region("") == "us-east-1");
    write_files(env);
    CHECK(aws::resolve_region("") == "eu-west-1");
    CHECK(aws::resolve_region("", "dev") == "ap-south-1");
    env.set("AWS_PROFILE", "dev");
    CHECK(aws::resolve_region("") == "ap-south-1");
    env.set("AWS_DEFAULT_REGION", "us-west-1");
    CHECK(aws::resolve_region("") == "us-west-1");
    env.set("AWS_REGION", "us-west-2");
    CHECK(aws::resolve_region("") == "us-west-2");
    CHECK(aws::resolve_region("ca-central-1") == "ca-central-1");
}

TEST_CASE("credentials: iso 8601 times as aws sends them") {
    auto t = aws::parse_iso8601("2015-08-30T12:36:00Z");
    REQUIRE(t);
    CHECK(std::chrono::system_clock::to_time_t(*t) == 1440938160);
    auto f = aws::parse_iso8601("2015-08-30T12:36:00.359123Z");
    REQUIRE(f);
    CHECK(*f == *t);
    CHECK(aws::format_iso8601(*t) == "2015-08-30T12:36:00Z");
    CHECK_FALSE(aws::parse_iso8601("yesterday"));
    CHECK_FALSE(aws::parse_iso8601("2015-08-30T12:36:00+02:00"));
}

TEST_CASE("credentials_provider: refreshes within the 5 minute margin, not before") {
    using namespace std::chrono;
    auto t0 = system_clock::time_point(seconds(1'700'000'000));
    auto now = t0;
    int fetches = 0;
    aws::credentials_source src{"test", [&]() -> expected<aws::credentials> {
                                    ++fetches;
                                    aws::credentials c{"AKID" + std::to_string(fetches), "s", "t", now + minutes(15), {}};
                                    return c;
                                }};
    aws::credentials_provider p(src, std::nullopt, minutes(5), [&] { return now; });
    CHECK(p.get()->access_key_id == "AKID1");
    now = t0 + minutes(9);  // expires in 6 min: still fine
    CHECK(p.get()->access_key_id == "AKID1");
    now = t0 + minutes(11);  // expires in 4 min: refresh
    CHECK(p.get()->access_key_id == "AKID2");
    CHECK(fetches == 2);
}

TEST_CASE("credentials_provider: a failed refresh keeps valid credentials, then reports the error") {
    using namespace std::chrono;
    auto t0 = system_clock::time_point(seconds(1'700'000'000));
    auto now = t0;
    bool fail = false;
    aws::credentials_source src{"test", [&]() -> expected<aws::credentials> {
                                    if (fail) return make_error(exit_code::runtime, "sts down: x (y)");
                                    return aws::credentials{"AKID", "s", "t", t0 + minutes(10), {}};
                                }};
    aws::credentials_provider p(src, std::nullopt, minutes(5), [&] { return now; });
    REQUIRE(p.get());
    fail = true;
    now = t0 + minutes(7);
    REQUIRE(p.get());  // 3 min left: old ones still do
    now = t0 + minutes(11);
    auto r = p.get();
    REQUIRE_FALSE(r);
    CHECK(r.err().message == "sts down: x (y)");
}

TEST_CASE("credentials_provider: concurrent callers share one refresh") {
    std::atomic<int> fetches{0};
    aws::credentials_source src{"test", [&]() -> expected<aws::credentials> {
                                    ++fetches;
                                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                    return aws::credentials{"AKID", "s", "", std::nullopt, {}};
                                }};
    aws::credentials_provider p(src);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            for (int j = 0; j < 100; ++j)
                if (p.get()) ++ok;
        });
    for (auto& t : threads) t.join();
    CHECK(ok == 800);
    CHECK(fetches == 1);
}

TEST_CASE("credentials: redacted form never shows the secret or the token") {
    aws::credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN",
                       aws::parse_iso8601("2030-01-01T00:00:00Z"), "environment"};
    std::string s = c.redacted();
    CHECK(s.find("wJalrXUtnFEMI") == std::string::npos);
    CHECK(s.find("FwoGZXIvYXdz") == std::string::npos);
    CHECK(s.find("AKIAIOSFODNN7EXAMPLE") == std::string::npos);
    CHECK(s == "AKIA…MPLE (secret ****, session token ****, expires 2030-01-01T00:00:00Z, from environment)");
}

TEST_CASE("credentials: chain errors never contain secrets from the files") {
    aws_env_guard env;
    env.write(".aws/credentials", "[half]\naws_secret_access_key = SUPERSECRETVALUE\n");
    env.set("AWS_PROFILE", "half");
    auto r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("SUPERSECRETVALUE") == std::string::npos);
    env.set("AWS_PROFILE", "missing");
    env.set("AWS_SECRET_ACCESS_KEY", "ENVSECRETVALUE");
    r = aws::resolve_chain({});
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("ENVSECRETVALUE") == std::string::npos);
}
