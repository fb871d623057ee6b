// Runs every case of the two AWS SigV4 test suites in tests/data/sigv4.
#include <doctest/doctest.h>

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sds/aws/credentials.hpp"
#include "sds/aws/sigv4.hpp"

namespace fs = std::filesystem;
using namespace sds;

namespace {

const fs::path suite_root = fs::path(SDS_TEST_DATA) / "sigv4";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "missing file " << p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Parses the suites' raw HTTP requests: request line, headers (with folded continuation
// lines), blank line, body.
aws::signing_input parse_request(const std::string& text) {
    aws::signing_input in;
    size_t pos = 0;
    auto next_line = [&](std::string& line) {
        if (pos > text.size()) return false;
        auto nl = text.find('\n', pos);
        line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
        return true;
    };
    std::string line;
    next_line(line);
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    in.method = line.substr(0, sp1);
    std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto q = target.find('?');
    in.path = target.substr(0, q);
    if (q != std::string::npos) in.query = target.substr(q + 1);
    while (next_line(line) && !line.empty()) {
        if ((line[0] == ' ' || line[0] == '\t') && !in.headers.empty()) {
            in.headers.back().value += "\n" + line;
            continue;
        }
        auto colon = line.find(':');
        in.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
    }
    static std::vector<std::string> bodies;  // keeps string_views valid for the test's life
    bodies.push_back(pos < text.size() ? text.substr(pos) : std::string());
    in.body = bodies.back();
    return in;
}

std::vector<fs::path> case_dirs(const fs::path& root, const std::string& marker_ext, const std::string& marker) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        if ((!marker.empty() && e.path().filename() == marker) ||
            (!marker_ext.empty() && e.path().extension() == marker_ext))
            out.push_back(e.path().parent_path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

aws::time_point suite_time() { return aws::time_point(std::chrono::seconds(1440938160)); }  // 20150830T123600Z

aws::credentials suite_credentials() {
    aws::credentials c;
    c.access_key_id = "AKIDEXAMPLE";
    c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return c;
}

std::string header_value(const std::string& signed_request, const std::string& name) {
    std::istringstream ss(signed_request);
    std::string line;
    while (std::getline(ss, line)) {
        if (line.rfind(name + ":", 0) == 0) return line.substr(name.size() + 1);
    }
    return {};
}

}  // namespace

TEST_CASE("sigv4: suite time is 20150830T123600Z") {
    CHECK(aws::amz_date(suite_time()) == "20150830T123600Z");
}

TEST_CASE("sigv4: botocore suite (every case folder)") {
    const auto dirs = case_dirs(suite_root / "aws4_testsuite-botocore", ".req", "");
    REQUIRE(dirs.size() == 34);  // a missing or extra case changes this number
    int run = 0;
    for (const auto& dir : dirs) {
        const std::string name = dir.filename().string();
        SUBCASE(("botocore suite " + name).c_str()) {
            auto in = parse_request(slurp(dir / (name + ".req")));
            auto creds = suite_credentials();
            aws::sign_options opt;
            opt.region = "us-east-1";
            opt.service = "service";
            // A session token the request does not carry comes from the credentials: the signed
            // request (.sreq) shows it. post-sts-token/readme.txt: "after" adds it after signing.
            if (!sds::net::find_header(in.headers, "X-Amz-Security-Token"))
                creds.session_token = header_value(slurp(dir / (name + ".sreq")), "X-Amz-Security-Token");
            if (name == "post-sts-header-after") opt.sign_session_token = false;
            auto p = aws::sign_headers(in, creds, opt, suite_time());
            CHECK(p.canonical_request == slurp(dir / (name + ".creq")));
            CHECK(p.string_to_sign == slurp(dir / (name + ".sts")));
            CHECK(p.added_headers.back().value == slurp(dir / (name + ".authz")));
            if (name == "post-sts-header-after") {
                CHECK(sds::net::find_header(p.added_headers, "x-amz-security-token").has_value());
            }
        }
        ++run;
    }
    CHECK(run == 34);
}

TEST_CASE("sigv4: aws-c-auth suite (every case folder, header and query forms)") {
    const auto dirs = case_dirs(suite_root / "aws-signing-test-suite-v4", "", "context.json");
    REQUIRE(dirs.size() == 38);
    int run = 0;
    for (const auto& dir : dirs) {
        const std::string name = dir.filename().string();
        SUBCASE(("aws-c-auth suite " + name).c_str()) {
            simdjson::dom::parser parser;
            simdjson::dom::element ctx = parser.parse(simdjson::padded_string(slurp(dir / "context.json")));
            auto creds = suite_credentials();
            creds.access_key_id = std::string(std::string_view(ctx["credentials"]["access_key_id"]));
            creds.secret_access_key = std::string(std::string_view(ctx["credentials"]["secret_access_key"]));
            std::string_view token;
            if (ctx["credentials"]["token"].get(token) == simdjson::SUCCESS) creds.session_token = std::string(token);
            aws::sign_options opt;
            opt.region = std::string(std::string_view(ctx["region"]));
            opt.service = std::string(std::string_view(ctx["service"]));
            opt.normalize_path = bool(ctx["normalize"]);
            opt.content_sha256_header = bool(ctx["sign_body"]);
            bool omit = false;
            if (ctx["omit_session_token"].get(omit) == simdjson::SUCCESS) opt.sign_session_token = !omit;
            CHECK(std::string_view(ctx["timestamp"]) == "2015-08-30T12:36:00Z");
            auto expires = std::chrono::seconds(int64_t(ctx["expiration_in_seconds"]));

            auto in = parse_request(slurp(dir / "request.txt"));
            auto h = aws::sign_headers(in, creds, opt, suite_time());
            CHECK(h.canonical_request == slurp(dir / "header-canonical-request.txt"));
            CHECK(h.string_to_sign == slurp(dir / "header-string-to-sign.txt"));
            CHECK(h.signature == slurp(dir / "header-signature.txt"));
            CHECK(h.added_headers.back().value ==
                  header_value(slurp(dir / "header-signed-request.txt"), "Authorization"));

            auto qopt = opt;
            qopt.content_sha256_header = false;
            auto q = aws::presign_query(in, creds, qopt, suite_time(), expires);
            CHECK(q.canonical_request == slurp(dir / "query-canonical-request.txt"));
            CHECK(q.string_to_sign == slurp(dir / "query-string-to-sign.txt"));
            CHECK(q.signature == slurp(dir / "query-signature.txt"));
            std::string signed_line = slurp(dir / "query-signed-request.txt");
            signed_line = signed_line.substr(0, signed_line.find('\n'));
            CHECK(signed_line == in.method + " " + in.path + "?" + q.query + " HTTP/1.1");
        }
        ++run;
    }
    CHECK(run == 38);
}
