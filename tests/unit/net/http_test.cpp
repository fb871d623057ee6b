#include <doctest/doctest.h>

#include <string>

#include "local_http_server.hpp"
#include "sds/net/http.hpp"

using namespace sds;
using sds::test::canned_response;
using sds::test::local_http_server;
using sds::test::seen_request;

TEST_CASE("http: GET sends headers and returns status, headers (case-insensitive) and body") {
    local_http_server srv([](const seen_request& r) {
        return canned_response{201, {{"X-Echo", r.header("x-custom")}, {"Content-Type", "text/plain"}}, "hello"};
    });
    net::client c;
    net::request req;
    req.url = srv.url("/path?q=1");
    req.headers.push_back({"X-Custom", "abc"});
    auto r = c.perform(req);
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(r->body == "hello");
    CHECK(r->header("x-echo") == std::optional<std::string_view>("abc"));
    CHECK(r->header("CONTENT-TYPE") == std::optional<std::string_view>("text/plain"));
    CHECK_FALSE(r->header("missing"));
    REQUIRE(srv.requests().size() == 1);
    CHECK(srv.requests()[0].target == "/path?q=1");
    CHECK(srv.requests()[0].method == "GET");
}

TEST_CASE("http: POST and PUT send the body with its length, no Expect round trip") {
    local_http_server srv([](const seen_request& r) { return canned_response{200, {}, r.method + ":" + r.body}; });
    net::client c;
    std::string body(100000, 'x');
    net::request req;
    req.method = "POST";
    req.url = srv.url("/");
    req.body = body;
    auto r = c.perform(req);
    REQUIRE(r);
    CHECK(r->body == "POST:" + body);
    CHECK(srv.requests()[0].header("expect").empty());
    req.method = "PUT";
    req.body = "small";
    r = c.perform(req);
    REQUIRE(r);
    CHECK(r->body == "PUT:small");
    req.method = "POST";
    req.body = {};
    r = c.perform(req);
    REQUIRE(r);
    CHECK(r->body == "POST:");
    CHECK(srv.requests()[2].header("content-length") == "0");
}

TEST_CASE("http: keep-alive reuses one connection across requests") {
    local_http_server srv([](const seen_request&) { return canned_response{200, {}, "ok"}; });
    net::client c;
    net::request req;
    req.url = srv.url("/a");
    for (int i = 0; i < 3; ++i) REQUIRE(c.perform(req));
    CHECK(srv.requests().size() == 3);
    CHECK(srv.connections() == 1);
}

TEST_CASE("http: streaming hands the body over in chunks without buffering it") {
    std::string big(1 << 20, 'a');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    local_http_server srv([&](const seen_request&) {
        canned_response r{200, {}, big};
        r.chunk_size = 64 * 1024;
        return r;
    });
    net::client c;
    net::request req;
    req.url = srv.url("/obj");
    std::string got;
    int chunks = 0;
    auto r = c.perform_streaming(req, [&](std::string_view chunk) {
        got.append(chunk);
        ++chunks;
        return true;
    });
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());
    CHECK(got == big);
    CHECK(chunks > 1);
}

TEST_CASE("http: streaming aborts when the sink returns false") {
    local_http_server srv([](const seen_request&) {
        canned_response r{200, {}, std::string(1 << 20, 'z')};
        r.chunk_size = 16 * 1024;
        return r;
    });
    net::client c;
    net::request req;
    req.url = srv.url("/obj?X-Amz-Signature=deadbeef");
    size_t seen = 0;
    auto r = c.perform_streaming(req, [&](std::string_view chunk) {
        seen += chunk.size();
        return false;
    });
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("aborted by the receiver") != std::string::npos);
    CHECK(r.err().message.find("X-Amz-Signature") == std::string::npos);
    CHECK(seen < (1u << 20));
}

TEST_CASE("http: streaming keeps a non-2xx body as the response body, not in the sink") {
    local_http_server srv([](const seen_request&) {
        return canned_response{404, {}, "<Error><Code>NoSuchKey</Code></Error>"};
    });
    net::client c;
    net::request req;
    req.url = srv.url("/missing");
    bool sink_called = false;
    auto r = c.perform_streaming(req, [&](std::string_view) {
        sink_called = true;
        return true;
    });
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(r->body.find("NoSuchKey") != std::string::npos);
    CHECK_FALSE(sink_called);
}

TEST_CASE("http: transport failure is one line 'what: where (why)' without the query string") {
    int port;
    {
        local_http_server srv([](const seen_request&) { return canned_response{}; });
        port = srv.port();
    }  // closed: nothing listens there now
    net::client c;
    net::request req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/x?X-Amz-Security-Token=SECRET";
    req.connect_timeout = std::chrono::milliseconds(500);
    auto r = c.perform(req);
    REQUIRE_FALSE(r);
    const auto& m = r.err().message;
    CHECK(m.rfind("http request failed: GET http://127.0.0.1:", 0) == 0);
    CHECK(m.find("SECRET") == std::string::npos);
    CHECK(m.back() == ')');
    CHECK(m.find('\n') == std::string::npos);
    CHECK(r.err().code == exit_code::runtime);
}

TEST_CASE("http: total timeout stops a slow response") {
    local_http_server srv([](const seen_request&) {
        canned_response r{200, {}, std::string(100, 'x')};
        r.chunk_size = 10;
        r.delay_ms_per_chunk = 100;
        return r;
    });
    net::client c;
    net::request req;
    req.url = srv.url("/slow");
    req.total_timeout = std::chrono::milliseconds(300);
    auto r = c.perform(req);
    REQUIRE_FALSE(r);
    CHECK(r.err().message.find("timed out") != std::string::npos);
}

TEST_CASE("http: url parsing, authority and encoding helpers") {
    auto u = net::parse_url("HTTPS://Bucket.S3.amazonaws.com:443/a%20b/c?x=1#frag");
    REQUIRE(u);
    CHECK(u->scheme == "https");
    CHECK(u->host == "bucket.s3.amazonaws.com");
    CHECK(u->path == "/a%20b/c");
    CHECK(u->query == "x=1");
    CHECK(u->authority() == "bucket.s3.amazonaws.com");
    auto v = net::parse_url("http://[::1]:9000");
    REQUIRE(v);
    CHECK(v->host == "::1");
    CHECK(v->path == "/");
    CHECK(v->authority() == "[::1]:9000");
    CHECK_FALSE(net::parse_url("ftp://x/"));
    CHECK_FALSE(net::parse_url("http://user:pw@host/"));
    CHECK(net::uri_encode("a b/ü~") == "a%20b%2F%C3%BC~");
    CHECK(net::uri_encode("a b/c", true) == "a%20b/c");
    CHECK(net::uri_decode("a%20b%zz+") == "a b%zz+");
    CHECK(net::uri_decode("a+b", true) == "a b");
    CHECK(net::redact_url("https://h/p?X-Amz-Signature=s#f") == "https://h/p");
}
