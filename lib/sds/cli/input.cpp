#include "sds/cli/input.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "sds/core/signals.hpp"

namespace sds::cli {

namespace {

class counting_sink final : public io::record_sink {
public:
    counting_sink(tool& t, const record_fn& fn) : t_(t), fn_(fn) {}
    status on_record(const io::record& r) override {
        ++t_.count().in;
        t_.tick();
        return fn_(r);
    }
    void on_reject(std::string_view reason, std::string_view source, uint64_t line, std::string_view text) override {
        ++t_.count().in;
        t_.reject(reason, source, line, text);
    }

private:
    tool& t_;
    const record_fn& fn_;
};

}  // namespace

expected<uint64_t> pump_path(const std::string& path, io::chunk_consumer& sink) {
    int fd = 0;
    std::string name = path;
    if (path.empty() || path == "-") {
        name = "stdin";
    } else {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return make_error(exit_code::runtime, fmt::format("cannot open: {} ({})", path, std::strerror(errno)));
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            ::close(fd);
            return make_error(exit_code::runtime, fmt::format("cannot read: {} (is a directory)", path));
        }
    }
    auto r = io::pump_fd(fd, name, sink);
    if (fd != 0) ::close(fd);
    if (!r) return r.err();
    if (r->stopped) return r->bytes;
    if (auto s = sink.finish(); !s) {
        auto e = s.err();
        e.message = fmt::format("{}: {}", name, e.message);
        return e;
    }
    return r->bytes;
}

exit_code read_records(tool& t, const std::vector<std::string>& inputs, const record_fn& fn) {
    std::vector<std::string> list = inputs.empty() ? std::vector<std::string>{"-"} : inputs;
    counting_sink sink(t, fn);
    io::ndjson_reader reader(sink, "");
    size_t failed_open = 0;
    exit_code result = exit_code::ok;
    for (const auto& path : list) {
        if (interrupted()) break;
        reader.set_source(path == "-" ? "stdin" : path);
        io::line_splitter splitter(reader, t.common().max_record_bytes);
        io::auto_decoder decoder(splitter);
        auto r = pump_path(path, decoder);
        if (!r) {
            const auto& e = r.err();
            if (e.code == exit_code::rejected) {
                // Corrupt compressed data: what was decoded has been handled; note the rest.
                ++t.count().in;
                t.reject(e.message, path, splitter.lines(), {});
            } else if (e.code == exit_code::runtime && splitter.lines() == 0 && decoder.bytes_out() == 0) {
                ++failed_open;
                t.error(e.message);
                ++t.count().in;
                t.reject(e.message, path, 0, {});
            } else {
                t.error(e.message);
                result = worst(result, e.code);
            }
            continue;
        }
        t.count().bytes_in += *r;
    }
    if (failed_open == list.size()) result = worst(result, exit_code::runtime);
    return result;
}

}  // namespace sds::cli
