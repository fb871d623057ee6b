// URL helpers declared in http.hpp: encoding, decoding, splitting, redaction.
#include <string>

#include "sds/net/http.hpp"

namespace sds::net {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    return out;
}

std::string uri_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
    return out;
}

std::string redact_url(std::string_view url) {
    auto cut = url.find_first_of("?#");
    return std::string(url.substr(0, cut));
}

std::string url_parts::authority() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    bool default_port = port.empty() || (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
    if (!default_port) out += ":" + port;
    return out;
}

expected<url_parts> parse_url(std::string_view url) {
    auto bad = [&](const char* why) {
        return make_error(exit_code::usage, "invalid url: " + redact_url(url) + " (" + why + ")");
    };
    url_parts p;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) return bad("no scheme");
    p.scheme = to_lower(url.substr(0, sep));
    if (p.scheme != "http" && p.scheme != "https") return bad("scheme is not http or https");
    std::string_view rest = url.substr(sep + 3);
    auto frag = rest.find('#');
    if (frag != std::string_view::npos) rest = rest.substr(0, frag);
    auto path_at = rest.find_first_of("/?");
    std::string_view auth = rest.substr(0, path_at);
    std::string_view tail = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
    if (auth.find('@') != std::string_view::npos) return bad("user information in urls is not supported");
    if (auth.empty()) return bad("no host");
    if (auth.front() == '[') {
        auto close = auth.find(']');
        if (close == std::string_view::npos) return bad("unclosed ipv6 bracket");
        p.host = std::string(auth.substr(1, close - 1));
        auto after = auth.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("junk after ipv6 address");
            p.port = std::string(after.substr(1));
        }
    } else {
        auto colon = auth.find(':');
        p.host = to_lower(auth.substr(0, colon));
        if (colon != std::string_view::npos) p.port = std::string(auth.substr(colon + 1));
    }
    if (p.host.empty()) return bad("no host");
    for (char c : p.port)
        if (c < '0' || c > '9') return bad("port is not a number");
    auto q = tail.find('?');
    p.path = std::string(tail.substr(0, q));
    if (p.path.empty()) p.path = "/";
    if (q != std::string_view::npos) p.query = std::string(tail.substr(q + 1));
    return p;
}

}  // namespace sds::net
