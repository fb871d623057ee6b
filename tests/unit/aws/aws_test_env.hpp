#pragma once
// Test helpers: a clean AWS environment (restored afterwards) with a private HOME.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace sds::test {

class aws_env_guard {
public:
    aws_env_guard() {
        char tmpl[] = "/tmp/sds-aws-test-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        for (const char* v : vars) {
            const char* old = std::getenv(v);
            saved_[v] = old ? std::optional<std::string>(old) : std::nullopt;
            ::unsetenv(v);
        }
        set("HOME", dir_.string());
        set("AWS_EC2_METADATA_DISABLED", "true");  // never probe 169.254.169.254 from tests
    }
    ~aws_env_guard() {
        for (const auto& [k, v] : saved_) {
            if (v) ::setenv(k.c_str(), v->c_str(), 1);
            else ::unsetenv(k.c_str());
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    aws_env_guard(const aws_env_guard&) = delete;
    aws_env_guard& operator=(const aws_env_guard&) = delete;

    void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
    void unset(const char* name) { ::unsetenv(name); }
    const std::filesystem::path& dir() const { return dir_; }

    // Writes a file under the private HOME and returns its path.
    std::string write(const std::string& rel, const std::string& text) {
        auto p = dir_ / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }

    static constexpr const char* vars[] = {
        "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_METADATA_SERVICE_TIMEOUT",
        "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
    };

private:
    std::filesystem::path dir_;
    std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace sds::test
