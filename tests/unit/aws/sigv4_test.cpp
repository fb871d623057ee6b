// SigV4 beyond the suites: the S3 rules (no normalisation, no double encoding,
// x-amz-content-sha256, UNSIGNED-PAYLOAD) and the request-level helpers.
#include <doctest/doctest.h>

#include "sds/aws/sigv4.hpp"

using namespace sds;

namespace {

aws::credentials doc_credentials() {  // the AWS S3 documentation's example keys
    return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt, {}};
}
aws::time_point doc_time() { return aws::time_point(std::chrono::seconds(1369353600)); }  // 20130524T000000Z

}  // namespace

TEST_CASE("sigv4: s3 documentation example GET object with range header") {
    aws::signing_input in;
    in.path = "/test.txt";
    in.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
    auto opt = aws::s3_sign_options("us-east-1", false);
    auto p = aws::sign_headers(in, doc_credentials(), opt, doc_time());
    CHECK(p.canonical_request ==
          "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(p.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4: s3 documentation example presigned url") {
    auto opt = aws::s3_sign_options("us-east-1", true);
    auto url = aws::presign_url("GET", "https://examplebucket.s3.amazonaws.com/test.txt", doc_credentials(), opt,
                                std::chrono::seconds(86400), doc_time());
    REQUIRE(url);
    CHECK(*url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                  "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                  "&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400"
                  "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("sigv4: s3 keeps the path as sent (no normalisation, no double encoding)") {
    CHECK(aws::canonical_uri("/my-object//example//photo.user", false, false) == "/my-object//example//photo.user");
    CHECK(aws::canonical_uri("/a/./b/../c", false, false) == "/a/./b/../c");
    CHECK(aws::canonical_uri("/key%20with%2Bplus", false, false) == "/key%20with%2Bplus");
    CHECK(aws::canonical_uri("/raw space", false, false) == "/raw%20space");
    // Other services normalise and encode the encoded path again.
    CHECK(aws::canonical_uri("/key%20x", true, true) == "/key%2520x");
    CHECK(aws::canonical_uri("//a/./b/../c/", true, true) == "/a/c/");
    CHECK(aws::canonical_uri("", true, true) == "/");
}

TEST_CASE("sigv4: canonical query is sorted and RFC 3986 encoded") {
    CHECK(aws::canonical_query("b=2&a=1&a=0") == "a=0&a=1&b=2");
    CHECK(aws::canonical_query("prefix=AWSLogs/1/&list-type=2&acl") == "acl=&list-type=2&prefix=AWSLogs%2F1%2F");
    CHECK(aws::canonical_query("k=a%2fb&x=%7E+") == "k=a%2Fb&x=~%2B");
    CHECK(aws::canonical_query("") == "");
}

TEST_CASE("sigv4: canonical header values are trimmed with inner whitespace collapsed") {
    CHECK(aws::canonical_header_value("  a   b \t c  ") == "a b c");
    CHECK(aws::canonical_header_value("v1\n   v2") == "v1 v2");
    CHECK(aws::canonical_header_value("") == "");
}

TEST_CASE("sigv4: sign() adds Host, X-Amz-Date, token, content hash and Authorization to a request") {
    net::request req;
    req.method = "PUT";
    req.url = "https://bucket.s3.eu-west-1.amazonaws.com/logs/a%2Bb.json?x-id=PutObject";
    req.body = "{}";
    req.headers = {{"X-Amz-Date", "stale"}, {"Content-Type", "application/json"}};
    aws::credentials c = doc_credentials();
    c.session_token = "SESSIONTOKEN";
    auto st = aws::sign(req, c, aws::s3_sign_options("eu-west-1", false), doc_time());
    REQUIRE(st);
    CHECK(net::find_header(req.headers, "host") == std::optional<std::string_view>("bucket.s3.eu-west-1.amazonaws.com"));
    CHECK(net::find_header(req.headers, "x-amz-date") == std::optional<std::string_view>("20130524T000000Z"));
    CHECK(net::find_header(req.headers, "x-amz-security-token") == std::optional<std::string_view>("SESSIONTOKEN"));
    CHECK(net::find_header(req.headers, "x-amz-content-sha256") ==
          std::optional<std::string_view>(aws::sha256_hex("{}")));
    auto auth = std::string(*net::find_header(req.headers, "authorization"));
    CHECK(auth.find("Credential=AKIAIOSFODNN7EXAMPLE/20130524/eu-west-1/s3/aws4_request") != std::string::npos);
    CHECK(auth.find("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token") !=
          std::string::npos);
    int dates = 0;
    for (const auto& h : req.headers) dates += net::iequals(h.name, "x-amz-date");
    CHECK(dates == 1);
    // Signing again replaces, never duplicates.
    REQUIRE(aws::sign(req, c, aws::s3_sign_options("eu-west-1", false), doc_time()));
    int auths = 0;
    for (const auto& h : req.headers) auths += net::iequals(h.name, "authorization");
    CHECK(auths == 1);
}

TEST_CASE("sigv4: UNSIGNED-PAYLOAD and a precomputed payload hash") {
    aws::signing_input in;
    in.headers = {{"Host", "h"}};
    in.body = "data";
    auto opt = aws::s3_sign_options("us-east-1", true);
    auto p = aws::sign_headers(in, doc_credentials(), opt, doc_time());
    CHECK(p.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    CHECK(net::find_header(p.added_headers, "x-amz-content-sha256") == std::optional<std::string_view>("UNSIGNED-PAYLOAD"));
    opt.unsigned_payload = false;
    opt.payload_hash = std::string(64, 'a');
    p = aws::sign_headers(in, doc_credentials(), opt, doc_time());
    CHECK(p.canonical_request.ends_with("\n" + std::string(64, 'a')));
}

TEST_CASE("sigv4: host header keeps a non-default port and drops the default one") {
    net::request a;
    a.url = "http://127.0.0.1:9000/b/k";
    REQUIRE(aws::sign(a, doc_credentials(), aws::s3_sign_options("us-east-1"), doc_time()));
    CHECK(net::find_header(a.headers, "host") == std::optional<std::string_view>("127.0.0.1:9000"));
    net::request b;
    b.url = "https://s3.amazonaws.com:443/b/k";
    REQUIRE(aws::sign(b, doc_credentials(), aws::s3_sign_options("us-east-1"), doc_time()));
    CHECK(net::find_header(b.headers, "host") == std::optional<std::string_view>("s3.amazonaws.com"));
    net::request bad;
    bad.url = "not a url";
    CHECK_FALSE(aws::sign(bad, doc_credentials(), aws::s3_sign_options("us-east-1"), doc_time()));
}

TEST_CASE("sigv4: hmac and sha256 building blocks") {
    CHECK(aws::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // RFC 4231 test case 2.
    CHECK(aws::to_hex(aws::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
