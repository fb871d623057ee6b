#include "sds/s3/state.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "sds/json/escape.hpp"

namespace sds::s3 {

status state_file::open(std::string path) {
    path_ = std::move(path);
    done_.clear();
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return status::success();
        return make_error(exit_code::runtime, fmt::format("cannot read state: {} ({})", path_, std::strerror(errno)));
    }
    std::string line;
    simdjson::dom::parser parser;
    uint64_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) continue;
        simdjson::dom::element doc;
        std::string_view uri, etag;
        if (parser.parse(line).get(doc) || doc["uri"].get(uri) || doc["etag"].get(etag))
            return make_error(exit_code::usage,
                              fmt::format("corrupt state file: {}:{} (not a state line)", path_, n));
        done_[std::string(uri)] = std::string(etag);
    }
    return status::success();
}

bool state_file::done(const std::string& uri, const std::string& etag) const {
    auto it = done_.find(uri);
    return it != done_.end() && it->second == etag;
}

void state_file::mark(const std::string& uri, const std::string& etag) {
    if (path_.empty()) return;
    done_[uri] = etag;
    dirty_ = true;
}

bool state_file::due(std::chrono::milliseconds interval) const {
    return dirty_ && std::chrono::steady_clock::now() - last_save_ >= interval;
}

status state_file::maybe_save(std::chrono::milliseconds interval) {
    if (!due(interval)) return status::success();
    return save();
}

status state_file::save() {
    if (path_.empty() || !dirty_) return status::success();
    std::map<std::string_view, std::string_view> sorted(done_.begin(), done_.end());
    std::string text;
    for (const auto& [uri, etag] : sorted) {
        text += "{\"uri\":";
        json::append_string_lossy(text, uri);
        text += ",\"etag\":";
        json::append_string_lossy(text, etag);
        text += "}\n";
    }
    std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(exit_code::runtime, fmt::format("cannot write state: {} ({})", tmp, std::strerror(errno)));
    size_t off = 0;
    while (off < text.size()) {
        ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error(exit_code::runtime, fmt::format("cannot write state: {} ({})", tmp, std::strerror(e)));
        }
        off += size_t(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error(exit_code::runtime, fmt::format("cannot write state: {} ({})", tmp, std::strerror(e)));
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error(exit_code::runtime, fmt::format("cannot write state: {} ({})", path_, std::strerror(e)));
    }
    dirty_ = false;
    last_save_ = std::chrono::steady_clock::now();
    return status::success();
}

}  // namespace sds::s3
