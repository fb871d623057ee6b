#include "sds/aws/metadata.hpp"

#include <simdjson.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "sds/aws/config_file.hpp"

namespace sds::aws {
namespace {

std::string strip_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

std::string rstrip(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// FULL_URI may point at a loopback address, the ECS/EKS link-local agents, or anything over https.
bool allowed_full_uri(const net::url_parts& u) {
    if (u.scheme == "https") return true;
    return is_loopback(u.host) || u.host == "169.254.170.2" || u.host == "169.254.170.23" || u.host == "fd00:ec2::23";
}

std::chrono::milliseconds metadata_timeout(std::chrono::milliseconds fallback) {
    std::string v = env_or_empty("AWS_METADATA_SERVICE_TIMEOUT");
    if (v.empty()) return fallback;
    try {
        return std::chrono::milliseconds(static_cast<long long>(std::stod(v) * 1000));
    } catch (...) {
        return fallback;
    }
}

net::request make_get(std::string url, std::chrono::milliseconds timeout) {
    net::request r;
    r.url = std::move(url);
    r.connect_timeout = timeout;
    r.total_timeout = timeout + std::chrono::seconds(2);
    return r;
}

// The "(why)" of a transport error, without repeating its url.
std::string reason(const error& e) {
    auto open = e.message.rfind(" (");
    if (open == std::string::npos || e.message.back() != ')') return e.message;
    return e.message.substr(open + 2, e.message.size() - open - 3);
}

}  // namespace

expected<credentials> parse_credentials_json(std::string_view json, std::string_view where) {
    auto bad = [&](const std::string& why) {
        return make_error(exit_code::runtime, "bad credentials response: " + std::string(where) + " (" + why + ")");
    };
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return bad("not json");
    auto field = [&](const char* name) {
        std::string_view v;
        return doc[name].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
    };
    std::string code = field("Code");
    if (!code.empty() && code != "Success") return bad("code " + code.substr(0, 64));
    credentials c;
    c.access_key_id = field("AccessKeyId");
    c.secret_access_key = field("SecretAccessKey");
    c.session_token = field("Token");
    std::string exp = field("Expiration");
    if (c.access_key_id.empty() || c.secret_access_key.empty()) return bad("no AccessKeyId/SecretAccessKey");
    if (!exp.empty()) {
        c.expiration = parse_iso8601(exp);
        if (!c.expiration) return bad("bad expiration '" + exp.substr(0, 40) + "'");
    }
    return c;
}

std::optional<credentials_source> container_source(const std::string& ecs_base_url, std::chrono::milliseconds timeout) {
    std::string relative = env_or_empty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    std::string full = env_or_empty("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (relative.empty() && full.empty()) return std::nullopt;
    std::string url = !relative.empty() ? strip_slash(ecs_base_url) + (relative.front() == '/' ? "" : "/") + relative : full;
    auto http = std::make_shared<net::client>();
    timeout = metadata_timeout(timeout);
    credentials_source src;
    src.name = "container";
    src.fetch = [http, url, timeout, relative_set = !relative.empty()]() -> expected<credentials> {
        const std::string where = net::redact_url(url);
        auto fail = [&](const std::string& why) {
            return make_error(exit_code::runtime, "container credentials failed: " + where + " (" + why + ")");
        };
        auto parts = net::parse_url(url);
        if (!parts) return fail("invalid url");
        if (!relative_set && !allowed_full_uri(*parts))
            return fail("AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback/container-agent address");
        net::request req = make_get(url, timeout);
        std::string token;
        std::string token_file = env_or_empty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        if (!token_file.empty()) {
            std::ifstream in(token_file, std::ios::binary);
            if (!in) return fail("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + token_file);
            std::ostringstream ss;
            ss << in.rdbuf();
            token = rstrip(ss.str());
        } else {
            token = env_or_empty("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        }
        if (token.find_first_of("\r\n") != std::string::npos) return fail("authorization token contains a line break");
        if (!token.empty()) req.headers.push_back({"Authorization", token});
        auto resp = http->perform(req);
        if (!resp) return fail(reason(resp.err()));
        if (resp->status != 200) return fail("http " + std::to_string(resp->status));
        auto c = parse_credentials_json(resp->body, where);
        if (c) c->source = "container";
        return c;
    };
    return src;
}

std::optional<credentials_source> imds_source(std::chrono::milliseconds timeout) {
    std::string disabled = env_or_empty("AWS_EC2_METADATA_DISABLED");
    for (auto& ch : disabled) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (disabled == "true") return std::nullopt;
    std::string base = env_or_empty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (base.empty()) {
        std::string mode = env_or_empty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        base = (mode == "IPv6" || mode == "ipv6") ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
    }
    base = strip_slash(base);
    auto http = std::make_shared<net::client>();
    timeout = metadata_timeout(timeout);
    credentials_source src;
    src.name = "instance metadata";
    src.fetch = [http, base, timeout]() -> expected<credentials> {
        auto fail = [&](const std::string& where, const std::string& why) {
            return make_error(exit_code::runtime, "instance metadata credentials failed: " + where + " (" + why + ")");
        };
        net::request put = make_get(base + "/latest/api/token", timeout);
        put.method = "PUT";
        put.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "21600"});
        auto tok = http->perform(put);
        if (!tok) return fail(put.url, reason(tok.err()));
        if (tok->status != 200 || tok->body.empty()) return fail(put.url, "token request: http " + std::to_string(tok->status));
        const std::string token = rstrip(tok->body);
        if (token.find_first_of("\r\n") != std::string::npos) return fail(put.url, "malformed token");

        const std::string list_url = base + "/latest/meta-data/iam/security-credentials/";
        net::request list = make_get(list_url, timeout);
        list.headers.push_back({"X-aws-ec2-metadata-token", token});
        auto roles = http->perform(list);
        if (!roles) return fail(list_url, reason(roles.err()));
        if (roles->status == 404) return fail(list_url, "no iam role attached to this instance");
        if (roles->status != 200) return fail(list_url, "http " + std::to_string(roles->status));
        std::string role = roles->body.substr(0, roles->body.find('\n'));
        role = rstrip(role);
        if (role.empty()) return fail(list_url, "no iam role attached to this instance");

        net::request get = make_get(list_url + net::uri_encode(role), timeout);
        get.headers.push_back({"X-aws-ec2-metadata-token", token});
        auto resp = http->perform(get);
        if (!resp) return fail(get.url, reason(resp.err()));
        if (resp->status != 200) return fail(get.url, "http " + std::to_string(resp->status));
        auto c = parse_credentials_json(resp->body, get.url);
        if (c) c->source = "instance metadata role " + role;
        return c;
    };
    return src;
}

}  // namespace sds::aws
