#include "sds/aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

namespace sds::aws {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Headers never signed: they are set after signing or change on the way (proxies, curl).
bool never_signed(std::string_view lname) {
    return lname == "authorization" || lname == "x-amz-date" || lname == "user-agent" ||
           lname == "expect" || lname == "x-amzn-trace-id" || lname == "transfer-encoding";
}

struct canonical_headers {
    std::string text;    // "name:value\n" lines
    std::string signed_; // "a;b;c"
};

// name (lower-case) → values in order of appearance.
using header_map = std::map<std::string, std::vector<std::string>>;

header_map collect_headers(const net::header_list& headers, bool drop_token) {
    header_map m;
    for (const auto& h : headers) {
        std::string name = lower(canonical_header_value(h.name));
        if (never_signed(name) || (drop_token && name == "x-amz-security-token")) continue;
        m[name].push_back(canonical_header_value(h.value));
    }
    return m;
}

canonical_headers render(const header_map& m) {
    canonical_headers out;
    for (const auto& [name, values] : m) {
        out.text += name;
        out.text += ':';
        for (size_t i = 0; i < values.size(); ++i) {
            if (i) out.text += ',';
            out.text += values[i];
        }
        out.text += '\n';
        if (!out.signed_.empty()) out.signed_ += ';';
        out.signed_ += name;
    }
    return out;
}

std::string payload_hash(const signing_input& in, const sign_options& opt) {
    if (opt.unsigned_payload) return "UNSIGNED-PAYLOAD";
    if (!opt.payload_hash.empty()) return opt.payload_hash;
    return sha256_hex(in.body);
}

std::string scope(const std::string& date, const sign_options& opt) {
    return date.substr(0, 8) + "/" + opt.region + "/" + opt.service + "/aws4_request";
}

std::string canonical_request(const signing_input& in, const sign_options& opt, std::string_view query,
                              const canonical_headers& ch, const std::string& hash) {
    std::string out = in.method;
    out += '\n';
    out += canonical_uri(in.path, opt.normalize_path, opt.double_encode);
    out += '\n';
    out += canonical_query(query);
    out += '\n';
    out += ch.text;
    out += '\n';
    out += ch.signed_;
    out += '\n';
    out += hash;
    return out;
}

void finish(signature_parts& p, const credentials& creds, const sign_options& opt, const std::string& date) {
    p.string_to_sign = std::string(algorithm) + "\n" + date + "\n" + scope(date, opt) + "\n" +
                       sha256_hex(p.canonical_request);
    std::string key = hmac_sha256("AWS4" + creds.secret_access_key, date.substr(0, 8));
    key = hmac_sha256(key, opt.region);
    key = hmac_sha256(key, opt.service);
    key = hmac_sha256(key, "aws4_request");
    p.signature = to_hex(hmac_sha256(key, p.string_to_sign));
}

}  // namespace

sign_options s3_sign_options(std::string region, bool unsigned_payload) {
    sign_options o;
    o.region = std::move(region);
    o.service = "s3";
    o.normalize_path = false;
    o.double_encode = false;
    o.content_sha256_header = true;
    o.unsigned_payload = unsigned_payload;
    return o;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
    return std::string(reinterpret_cast<const char*>(md), len);
}

std::string amz_date(time_point when) {
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string canonical_header_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
    }
    return out;
}

std::string canonical_uri(std::string_view path, bool normalize, bool double_encode) {
    std::string p(path.empty() ? "/" : path);
    if (normalize) {
        std::vector<std::string_view> segs;
        std::string_view rest(p);
        bool trailing = rest.ends_with('/') || rest.ends_with("/.") || rest.ends_with("/..");
        while (!rest.empty()) {
            auto slash = rest.find('/');
            std::string_view seg = rest.substr(0, slash);
            rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
            if (seg.empty() || seg == ".") continue;
            if (seg == "..") {
                if (!segs.empty()) segs.pop_back();
                continue;
            }
            segs.push_back(seg);
        }
        std::string out = "/";
        for (size_t i = 0; i < segs.size(); ++i) {
            if (i) out += '/';
            out += segs[i];
        }
        if (trailing && !segs.empty()) out += '/';
        p = std::move(out);
    }
    if (double_encode) return net::uri_encode(p, true);
    // Already encoded once (S3): only escape what is not allowed raw, keep existing %XX.
    std::string out;
    for (char c : p) {
        if (c == '%') out.push_back(c);
        else out += net::uri_encode(std::string_view(&c, 1), true);
    }
    return out;
}

std::string canonical_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> params;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (item.empty()) continue;
        auto eq = item.find('=');
        std::string_view k = item.substr(0, eq);
        std::string_view v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        params.emplace_back(net::uri_encode(net::uri_decode(k)), net::uri_encode(net::uri_decode(v)));
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [k, v] : params) {
        if (!out.empty()) out += '&';
        out += k;
        out += '=';
        out += v;
    }
    return out;
}

signature_parts sign_headers(const signing_input& in, const credentials& creds, const sign_options& opt,
                             time_point when) {
    signature_parts p;
    const std::string date = amz_date(when);
    const bool has_token = !creds.session_token.empty();
    const std::string hash = payload_hash(in, opt);

    header_map m = collect_headers(in.headers, has_token);
    p.added_headers.push_back({"X-Amz-Date", date});
    m["x-amz-date"] = {date};
    if (has_token) {
        p.added_headers.push_back({"X-Amz-Security-Token", creds.session_token});
        if (opt.sign_session_token) m["x-amz-security-token"] = {creds.session_token};
    }
    if (opt.content_sha256_header) {
        m.erase("x-amz-content-sha256");
        p.added_headers.push_back({"x-amz-content-sha256", hash});
        m["x-amz-content-sha256"] = {hash};
    }
    canonical_headers ch = render(m);
    p.signed_headers = ch.signed_;
    p.canonical_request = canonical_request(in, opt, in.query, ch, hash);
    finish(p, creds, opt, date);
    p.added_headers.push_back({"Authorization", std::string(algorithm) + " Credential=" + creds.access_key_id +
                                                    "/" + scope(date, opt) + ", SignedHeaders=" +
                                                    p.signed_headers + ", Signature=" + p.signature});
    return p;
}

signature_parts presign_query(const signing_input& in, const credentials& creds, const sign_options& opt,
                              time_point when, std::chrono::seconds expires) {
    signature_parts p;
    const std::string date = amz_date(when);
    const bool has_token = !creds.session_token.empty();
    canonical_headers ch = render(collect_headers(in.headers, true));
    p.signed_headers = ch.signed_;

    using net::uri_encode;
    std::string added = "X-Amz-Algorithm=" + std::string(algorithm) +
                        "&X-Amz-Credential=" + uri_encode(creds.access_key_id + "/" + scope(date, opt)) +
                        "&X-Amz-Date=" + date + "&X-Amz-SignedHeaders=" + uri_encode(ch.signed_) +
                        "&X-Amz-Expires=" + std::to_string(expires.count());
    std::string token = has_token ? "&X-Amz-Security-Token=" + uri_encode(creds.session_token) : "";
    std::string signed_query = in.query.empty() ? added : in.query + "&" + added;
    if (opt.sign_session_token) signed_query += token;

    p.canonical_request = canonical_request(in, opt, signed_query, ch, payload_hash(in, opt));
    finish(p, creds, opt, date);
    p.query = signed_query + (opt.sign_session_token ? "" : token) + "&X-Amz-Signature=" + p.signature;
    return p;
}

namespace {

expected<signing_input> input_for(std::string_view method, std::string_view url, const net::header_list& headers,
                                  std::string_view body, net::url_parts& parts) {
    auto u = net::parse_url(url);
    if (!u) return u.err();
    parts = std::move(*u);
    signing_input in;
    in.method = std::string(method);
    in.path = parts.path;
    in.query = parts.query;
    in.headers = headers;
    in.body = body;
    if (!net::find_header(in.headers, "host")) in.headers.push_back({"Host", parts.authority()});
    return in;
}

}  // namespace

status sign(net::request& req, const credentials& creds, const sign_options& opt, time_point when) {
    net::url_parts parts;
    // Headers from an earlier signing are replaced, never signed again.
    std::erase_if(req.headers, [](const net::header& h) {
        return net::iequals(h.name, "authorization") || net::iequals(h.name, "x-amz-date") ||
               net::iequals(h.name, "x-amz-security-token") || net::iequals(h.name, "x-amz-content-sha256");
    });
    auto in = input_for(req.method, req.url, req.headers, req.body, parts);
    if (!in) return in.err();
    signature_parts p = sign_headers(*in, creds, opt, when);
    if (!net::find_header(req.headers, "host")) req.headers.push_back({"Host", parts.authority()});
    for (auto& h : p.added_headers) req.headers.push_back(std::move(h));
    return {};
}

expected<std::string> presign_url(std::string_view method, std::string_view url, const credentials& creds,
                                  const sign_options& opt, std::chrono::seconds expires, time_point when) {
    net::url_parts parts;
    auto in = input_for(method, url, {}, {}, parts);
    if (!in) return in.err();
    signature_parts p = presign_query(*in, creds, opt, when, expires);
    std::string base(url.substr(0, url.find_first_of("?#")));
    return base + "?" + p.query;
}

}  // namespace sds::aws
