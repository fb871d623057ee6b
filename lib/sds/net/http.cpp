#include "sds/net/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace sds::net {
namespace {

constexpr std::size_t max_error_body = 64 * 1024;

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct transfer {
    CURL* curl = nullptr;
    response* resp = nullptr;
    const chunk_sink* sink = nullptr;  // null: buffer everything
    bool aborted = false;
    std::string_view body;  // request body still to send
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
        t->resp->headers.clear();  // a new response (after 100 Continue or a proxy's reply)
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        t->resp->headers.push_back(
            {std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    }
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    std::string_view chunk(data, size * n);
    if (t->sink) {
        long status = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            if (!(*t->sink)(chunk)) {
                t->aborted = true;
                return 0;  // makes curl stop with CURLE_WRITE_ERROR
            }
            return chunk.size();
        }
        auto room = max_error_body - std::min(max_error_body, t->resp->body.size());
        t->resp->body.append(chunk.substr(0, std::min(room, chunk.size())));
        return chunk.size();
    }
    t->resp->body.append(chunk);
    return chunk.size();
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    size_t len = std::min(size * n, t->body.size());
    std::copy_n(t->body.data(), len, buf);
    t->body.remove_prefix(len);
    return len;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
}

struct client::impl {
    CURL* curl = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {};

    impl() {
        global_init_once();
        curl = curl_easy_init();
    }
    ~impl() {
        if (curl) curl_easy_cleanup(curl);
    }

    expected<response> run(const request& req, const chunk_sink* sink) {
        const std::string where = req.method + " " + redact_url(req.url);
        if (!curl) return make_error(exit_code::runtime, "http request failed: " + where + " (curl init failed)");
        curl_easy_reset(curl);  // keeps the connection cache, DNS cache and TLS sessions
        response resp;
        transfer t{curl, &resp, sink, false, req.body};
        errbuf[0] = '\0';

        curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.total_timeout.count()));
        if (req.stall_timeout.count() > 0) {
            curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.stall_timeout.count()));
        }
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, req.insecure ? 0L : 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, req.insecure ? 0L : 2L);
        if (!req.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_file.c_str());
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, nullptr);  // bodies pass through as sent

        const bool has_body = !req.body.empty() || req.method == "POST" || req.method == "PUT";
        if (req.method == "GET") {
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (req.method == "HEAD") {
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        }
        if (has_body && req.method != "HEAD") {
            curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(curl, CURLOPT_READDATA, &t);
            curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        }

        curl_slist* list = nullptr;
        bool has_expect = false;
        for (const auto& h : req.headers) {
            if (iequals(h.name, "expect")) has_expect = true;
            std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
            list = curl_slist_append(list, line.c_str());
        }
        // No "Expect: 100-continue" round trip unless the caller asks for it.
        if (!has_expect) list = curl_slist_append(list, "Expect:");
        if (!has_body) list = curl_slist_append(list, "Transfer-Encoding:");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

        CURLcode rc = curl_easy_perform(curl);
        curl_slist_free_all(list);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
        if (rc != CURLE_OK) {
            std::string why = t.aborted ? std::string("aborted by the receiver")
                              : errbuf[0] ? std::string(errbuf)
                                          : std::string(curl_easy_strerror(rc));
            return make_error(exit_code::runtime, "http request failed: " + where + " (" + why + ")");
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
        return resp;
    }
};

client::client() : impl_(std::make_unique<impl>()) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

expected<response> client::perform(const request& req) { return impl_->run(req, nullptr); }

expected<response> client::perform_streaming(const request& req, const chunk_sink& sink) {
    return impl_->run(req, &sink);
}

}  // namespace sds::net
