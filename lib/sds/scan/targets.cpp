#include "sds/scan/targets.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <thread>

#include "sds/cli/input.hpp"
#include "sds/core/signals.hpp"
#include "sds/io/line_splitter.hpp"
#include "sds/json/path.hpp"

namespace sds::scan {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool valid_host_name(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    size_t label = 0;
    char prev = '.';
    for (char c : s) {
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
            if (label == 0 && c == '-') return false;
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return prev != '-';
}

}  // namespace

uint64_t network_size(const ip::network& n) {
    int host_bits = (n.base.v4 ? 32 : 128) - n.prefix;
    if (host_bits >= 64) return UINT64_MAX;
    return uint64_t{1} << host_bits;
}

ip::address network_address(const ip::network& n, uint64_t i) {
    ip::address a = n.base;
    // Add i to the low 64 bits (host bits of the network are zero, so this never carries
    // into the prefix for i < size).
    uint64_t low = 0;
    for (int k = 8; k < 16; ++k) low = (low << 8) | a.bytes[k];
    low += i;
    for (int k = 15; k >= 8; --k) {
        a.bytes[k] = static_cast<uint8_t>(low & 0xff);
        low >>= 8;
    }
    return a;
}

expected<target> parse_target(std::string_view raw) {
    std::string_view text = trim(raw);
    if (text.empty()) return make_error(exit_code::rejected, "empty target");
    target t;
    if (text.find('/') != std::string_view::npos) {
        auto n = ip::parse_cidr(text);
        if (!n) return make_error(exit_code::rejected, fmt::format("invalid CIDR: {}", text));
        t.kind = target_kind::network;
        t.net = *n;
        t.size = network_size(*n);
        return t;
    }
    std::string_view bare = text;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    if (auto a = ip::parse(bare)) {
        t.kind = target_kind::address;
        t.addr = *a;
        return t;
    }
    std::string name(text);
    if (!name.empty() && name.back() == '.') name.pop_back();
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool digits_and_dots = std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
    if (digits_and_dots || name.find(':') != std::string::npos)
        return make_error(exit_code::rejected, fmt::format("invalid IP address: {}", text));
    if (!valid_host_name(name)) return make_error(exit_code::rejected, fmt::format("invalid host name: {}", text));
    t.kind = target_kind::name;
    t.name = std::move(name);
    return t;
}

std::vector<expected<std::vector<ip::address>>> resolve_all(const std::vector<std::string>& names, unsigned threads) {
    std::vector<expected<std::vector<ip::address>>> out(names.size(), make_error(exit_code::rejected, "not resolved"));
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (;;) {
            size_t i = next.fetch_add(1);
            if (i >= names.size() || interrupted()) return;
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_ADDRCONFIG;
            addrinfo* res = nullptr;
            int rc = ::getaddrinfo(names[i].c_str(), nullptr, &hints, &res);
            if (rc != 0) {
                out[i] = make_error(exit_code::rejected,
                                    fmt::format("cannot resolve: {} ({})", names[i], ::gai_strerror(rc)));
                continue;
            }
            std::vector<ip::address> addrs;
            for (addrinfo* p = res; p; p = p->ai_next) {
                char buf[INET6_ADDRSTRLEN] = {};
                if (p->ai_family == AF_INET)
                    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, buf, sizeof buf);
                else if (p->ai_family == AF_INET6)
                    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, buf, sizeof buf);
                else
                    continue;
                if (auto a = ip::parse(buf); a && std::find(addrs.begin(), addrs.end(), *a) == addrs.end())
                    addrs.push_back(*a);
            }
            ::freeaddrinfo(res);
            if (addrs.empty())
                out[i] = make_error(exit_code::rejected, fmt::format("cannot resolve: {} (no addresses)", names[i]));
            else
                out[i] = std::move(addrs);
        }
    };
    unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(names.size())));
    std::vector<std::thread> pool;
    for (unsigned k = 1; k < n; ++k) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    return out;
}

const std::vector<std::string>& default_target_fields() {
    static const std::vector<std::string> f = {"destination.ip", "host.ip", "server.ip", "source.ip",
                                               "destination.domain", "host.name", "host.hostname",
                                               "server.domain", "url.domain", "target"};
    return f;
}

namespace {

class target_lines final : public io::line_handler {
public:
    target_lines(cli::tool& t, const std::vector<std::string>& fields, const std::function<void(const input_item&)>& fn)
        : t_(t), fields_(fields), fn_(fn) {}
    void set_source(std::string s) { source_ = std::move(s); }

    status on_line(std::string_view line, uint64_t number) override {
        std::string_view text = trim(line);
        if (text.empty() || text.front() == '#') return {};
        input_item it;
        it.source = source_;
        it.line = number;
        it.record = line;
        if (text.front() != '{') {
            it.text = text;
            fn_(it);
            return {};
        }
        simdjson::dom::element doc;
        auto err = parser_.parse(line.data(), line.size(), false).get(doc);
        if (err || !doc.is_object()) {
            reject(err ? io::json_error_reason(err) : "not a JSON object", number, line);
            return {};
        }
        std::optional<std::string_view> found;
        for (const auto& f : fields_) {
            if ((found = json::find_scalar_text(doc, f, scratch_)) && !trim(*found).empty()) break;
            found.reset();
        }
        if (!found) {
            reject(fmt::format("no target field ({})", fmt::join(fields_, ", ")), number, line);
            return {};
        }
        target_text_.assign(*found);
        it.text = target_text_;
        it.original_json = line;
        if (auto d = json::find_string(doc, "destination.domain")) {
            domain_.assign(*d);
            it.domain = domain_;
        }
        if (auto p = json::find(doc, "destination.port")) {
            int64_t v = 0;
            std::string_view s;
            if (p->get_int64().get(v) == simdjson::SUCCESS) {
            } else if (p->get_string().get(s) == simdjson::SUCCESS) {
                std::from_chars(s.data(), s.data() + s.size(), v);
            }
            if (v < 1 || v > 65535) {
                reject("invalid destination.port", number, line);
                return {};
            }
            it.port = static_cast<uint16_t>(v);
        }
        fn_(it);
        return {};
    }
    status on_oversize(uint64_t number, uint64_t bytes, std::string_view prefix) override {
        reject(fmt::format("line of {} bytes exceeds --max-record-bytes (first bytes kept)", bytes), number, prefix);
        return {};
    }

private:
    void reject(std::string_view reason, uint64_t line, std::string_view text) {
        ++t_.count().in;
        t_.reject(reason, source_, line, text);
    }
    cli::tool& t_;
    const std::vector<std::string>& fields_;
    const std::function<void(const input_item&)>& fn_;
    std::string source_;
    simdjson::dom::parser parser_;
    std::string scratch_, target_text_, domain_;
};

}  // namespace

exit_code read_targets(cli::tool& t, const std::vector<std::string>& files, const std::vector<std::string>& fields,
                       const std::function<void(const input_item&)>& fn) {
    target_lines lines(t, fields, fn);
    exit_code result = exit_code::ok;
    for (const auto& path : files) {
        if (interrupted()) break;
        lines.set_source(path == "-" ? "stdin" : path);
        io::line_splitter splitter(lines, t.common().max_record_bytes);
        io::auto_decoder decoder(splitter);
        auto r = cli::pump_path(path, decoder);
        if (!r) {
            t.error(r.err().message);
            result = worst(result, r.err().code == exit_code::rejected ? exit_code::rejected : exit_code::runtime);
            continue;
        }
        t.count().bytes_in += *r;
    }
    return result;
}

}  // namespace sds::scan
