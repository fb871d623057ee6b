#include "sds/enrich/indicator.hpp"

#include <algorithm>

namespace sds::enrich {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '"' ||
                          s.front() == '\''))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"' ||
                          s.back() == '\''))
        s.remove_suffix(1);
    return s;
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        std::string next = s.substr(0, pos);
        next.append(to);
        next.append(s, pos + from.size(), std::string::npos);
        s.swap(next);
        pos += to.size();
    }
}

}  // namespace

std::string_view ecs_type(ind_type t, bool v4) {
    switch (t) {
        case ind_type::ip: return v4 ? "ipv4-addr" : "ipv6-addr";
        case ind_type::domain: return "domain-name";
        case ind_type::url: return "url";
        case ind_type::md5:
        case ind_type::sha1:
        case ind_type::sha256: return "file";
    }
    return "unknown";
}

std::optional<ip::address> parse_address(std::string_view s) {
    ip::address a;
    if (ip::parse_plain_v4(s, a)) return a;
    return ip::parse(s);
}

std::string refang(std::string_view in) {
    std::string s(in);
    if (s.find_first_of("[({x") == std::string::npos) return s;
    replace_all(s, "[.]", ".");
    replace_all(s, "(.)", ".");
    replace_all(s, "{.}", ".");
    replace_all(s, "[dot]", ".");
    replace_all(s, "[://]", "://");
    replace_all(s, "[:]", ":");
    if (s.size() > 4 && (s.compare(0, 4, "hxxp") == 0 || s.compare(0, 4, "hXXp") == 0)) s = std::string("http").append(s, 4, std::string::npos);
    return s;
}

bool normalize_domain(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() > 2 && in[0] == '*' && in[1] == '.') in.remove_prefix(2);
    while (!in.empty() && in.back() == '.') in.remove_suffix(1);
    if (in.empty() || in.size() > 253 || in.front() == '.' || in.front() == '-') return false;
    bool dot = false;
    char prev = 0;
    for (char c : in) {
        char l = lower(c);
        bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-' || l == '_' || l == '.' ||
                  static_cast<unsigned char>(c) >= 0x80;
        if (!ok) return false;
        if (l == '.') {
            if (prev == '.') return false;
            dot = true;
        }
        prev = l;
        out.push_back(l);
    }
    return dot;
}

bool normalize_url(std::string_view in, std::string& out) {
    out.clear();
    auto sep = in.find("://");
    std::string_view scheme = "http";
    std::string_view rest = in;
    if (sep != std::string_view::npos) {
        scheme = in.substr(0, sep);
        if (scheme.empty() || scheme.size() > 16) return false;
        for (char c : scheme)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
                  c == '-' || c == '.'))
                return false;
        rest = in.substr(sep + 3);
    }
    auto hash = rest.find('#');
    if (hash != std::string_view::npos) rest = rest.substr(0, hash);
    auto path_at = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_at);
    std::string_view path = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
    auto at = authority.rfind('@');
    std::string_view userinfo;
    if (at != std::string_view::npos) {
        userinfo = authority.substr(0, at + 1);
        authority = authority.substr(at + 1);
    }
    if (authority.empty()) return false;
    // Host and port (IPv6 literals in brackets).
    std::string_view host = authority, port;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return false;
        host = authority.substr(0, close + 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return false;
    for (char c : host)
        if (c == ' ' || c == '\t' || c == '"' || c == '<' || c == '>') return false;
    if (sep == std::string_view::npos) {
        // Scheme-less "host/path": only when the host looks like a domain or an address.
        std::string tmp;
        if (!normalize_domain(host, tmp) && !ip::is_ip(host)) return false;
    }
    for (char c : scheme) out.push_back(lower(c));
    out.append("://");
    out.append(userinfo);
    for (char c : host) out.push_back(lower(c));
    while (!out.empty() && out.back() == '.') out.pop_back();
    bool default_port = port.empty() || (port == "80" && (scheme == "http" || scheme == "HTTP")) ||
                        (port == "443" && (scheme == "https" || scheme == "HTTPS"));
    if (!default_port) {
        out.push_back(':');
        out.append(port);
    }
    if (path.empty() || path.front() == '?') out.push_back('/');
    out.append(path);
    return true;
}

bool normalize_hash(std::string_view in, std::string& out, ind_type& type) {
    if (!(in.size() == 32 || in.size() == 40 || in.size() == 64) || !is_hex(in)) return false;
    out.clear();
    for (char c : in) out.push_back(lower(c));
    type = in.size() == 32 ? ind_type::md5 : in.size() == 40 ? ind_type::sha1 : ind_type::sha256;
    return true;
}

namespace {

// True when refang() could change `s` (it is the identity otherwise, and copies).
bool defanged(std::string_view s) {
    for (char c : s)
        if (c == '[' || c == '(' || c == '{') return true;
    return s.size() > 4 && (s.compare(0, 4, "hxxp") == 0 || s.compare(0, 4, "hXXp") == 0);
}

}  // namespace

bool classify(std::string_view raw, classified& c) {
    std::string_view s = trim(raw);
    std::string refanged;
    if (defanged(s)) {
        refanged = refang(s);
        s = refanged;
    }
    if (s.empty()) return false;
    c.value.clear();
    if (auto a = ip::parse(s)) {
        c.type = ind_type::ip;
        c.net.base = *a;
        c.net.prefix = a->v4 ? 32 : 128;
        return true;
    }
    bool slash = s.find('/') != std::string_view::npos;
    bool scheme = slash && s.find("://") != std::string_view::npos;
    if (slash && !scheme) {
        if (auto n = ip::parse_cidr(s)) {
            c.type = ind_type::ip;
            c.net = *n;
            return true;
        }
    }
    if (normalize_hash(s, c.value, c.type)) return true;
    if (slash || s.find("://") != std::string_view::npos) {
        if (normalize_url(s, c.value)) {
            c.type = ind_type::url;
            return true;
        }
        return false;
    }
    if (normalize_domain(s, c.value)) {
        // A bare dotted number that is not an address is not a domain either.
        if (std::all_of(c.value.begin(), c.value.end(), [](char ch) { return (ch >= '0' && ch <= '9') || ch == '.'; }))
            return false;
        c.type = ind_type::domain;
        return true;
    }
    return false;
}

std::optional<classified> classify(std::string_view raw) {
    classified c;
    if (!classify(raw, c)) return std::nullopt;
    return c;
}

}  // namespace sds::enrich
