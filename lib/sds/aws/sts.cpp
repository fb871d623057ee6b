#include "sds/aws/sts.hpp"

#include <pugixml.hpp>

#include <chrono>

#include "sds/aws/config_file.hpp"
#include "sds/aws/sigv4.hpp"

namespace sds::aws {
namespace {

using net::uri_encode;

std::string session_name_or_default(const std::string& name) {
    if (!name.empty()) return name;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    return "sds-" + std::to_string(secs.count());
}

std::string common_params(std::string_view action, const assume_role_params& p) {
    std::string body = "Action=" + std::string(action) + "&Version=2011-06-15&RoleArn=" + uri_encode(p.role_arn) +
                       "&RoleSessionName=" + uri_encode(session_name_or_default(p.session_name));
    if (p.duration_seconds > 0) body += "&DurationSeconds=" + std::to_string(p.duration_seconds);
    return body;
}

std::string mask(std::string text, std::string_view secret) {
    if (secret.empty()) return text;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
        text.replace(at, secret.size(), "****");
    return text;
}

// Finds the first descendant element with this local name (namespaces vary between servers).
pugi::xml_node find(pugi::xml_node root, const char* name) {
    return root.find_node([name](pugi::xml_node n) { return std::string_view(n.name()) == name; });
}

expected<credentials> call(net::client& http, net::request& req, std::string_view action, std::string_view endpoint,
                           std::string_view secret) {
    auto resp = http.perform(req);
    if (!resp) return make_error(exit_code::runtime, "sts " + std::string(action) + " failed: " +
                                                         net::redact_url(endpoint) + " (" + mask(resp.err().message, secret) + ")");
    return parse_sts_response(resp->status, resp->body, action, endpoint, secret);
}

net::request make_request(std::string_view endpoint, const std::string& body) {
    net::request req;
    req.body = body;  // the caller keeps `body` alive
    req.method = "POST";
    req.url = std::string(endpoint);
    if (req.url.empty() || req.url.back() != '/') req.url += '/';
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
    req.connect_timeout = std::chrono::seconds(10);
    req.total_timeout = std::chrono::seconds(60);
    return req;
}

}  // namespace

std::string sts_endpoint(std::string_view region) {
    for (const char* var : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
        std::string v = env_or_empty(var);
        if (!v.empty()) return v;
    }
    std::string r = region.empty() ? "us-east-1" : std::string(region);
    std::string suffix = r.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com";
    return "https://sts." + r + suffix;
}

expected<credentials> parse_sts_response(long status, std::string_view xml, std::string_view action,
                                         std::string_view endpoint, std::string_view secret) {
    const std::string where = "sts " + std::string(action) + " failed: " + net::redact_url(endpoint);
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(xml.data(), xml.size());
    if (status < 200 || status >= 300) {
        std::string why = "http " + std::to_string(status);
        if (parsed) {
            auto err = find(doc, "Error");
            std::string code = find(err, "Code").child_value();
            std::string msg = find(err, "Message").child_value();
            if (!code.empty()) why += " " + code;
            if (!msg.empty()) why += ": " + msg.substr(0, 300);
        }
        return make_error(exit_code::runtime, where + " (" + mask(why, secret) + ")");
    }
    if (!parsed) return make_error(exit_code::runtime, where + " (response is not xml: " + parsed.description() + ")");
    auto node = find(doc, "Credentials");
    credentials c;
    c.access_key_id = find(node, "AccessKeyId").child_value();
    c.secret_access_key = find(node, "SecretAccessKey").child_value();
    c.session_token = find(node, "SessionToken").child_value();
    std::string exp = find(node, "Expiration").child_value();
    if (c.access_key_id.empty() || c.secret_access_key.empty())
        return make_error(exit_code::runtime, where + " (no credentials in the response)");
    if (!exp.empty()) {
        c.expiration = parse_iso8601(exp);
        if (!c.expiration) return make_error(exit_code::runtime, where + " (bad expiration time '" + exp + "')");
    }
    return c;
}

expected<credentials> assume_role(net::client& http, const credentials& base, const assume_role_params& params,
                                  std::string_view region, std::string_view endpoint) {
    std::string body = common_params("AssumeRole", params);
    if (!params.external_id.empty()) body += "&ExternalId=" + uri_encode(params.external_id);
    net::request req = make_request(endpoint, body);
    sign_options opt;
    opt.region = region.empty() ? "us-east-1" : std::string(region);
    opt.service = "sts";
    if (auto st = sign(req, base, opt); !st) return st.err();
    auto c = call(http, req, "AssumeRole", endpoint, base.session_token);
    if (c) c->source = "assume role " + params.role_arn;
    return c;
}

expected<credentials> assume_role_with_web_identity(net::client& http, std::string_view web_identity_token,
                                                    const assume_role_params& params, std::string_view endpoint) {
    std::string body = common_params("AssumeRoleWithWebIdentity", params) +
                       "&WebIdentityToken=" + uri_encode(web_identity_token);
    net::request req = make_request(endpoint, body);
    auto c = call(http, req, "AssumeRoleWithWebIdentity", endpoint, web_identity_token);
    if (c) c->source = "web identity " + params.role_arn;
    return c;
}

}  // namespace sds::aws
