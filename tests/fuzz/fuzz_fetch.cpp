// The sds-fetch path: decoder -> sniffer -> JSON framer (Records, arrays, "}{", pretty) or
// text lines -> emitter (validation, CloudWatch Logs unwrapping, digests, @source). Every
// record written is one valid JSON object on one line; in == out + rejected + filtered; and
// the output does not depend on the chunking. First byte: chunk size and --annotate;
// second: --max-record-bytes.
#include <simdjson.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "fuzz_support.hpp"
#include "sds/fetch/emitter.hpp"

namespace {

int out_fd = -1, dead_fd = -1;

std::string read_all(int fd) {
    std::string s;
    char buf[65536];
    off_t off = 0;
    ssize_t n;
    while ((n = ::pread(fd, buf, sizeof buf, off)) > 0) {
        s.append(buf, static_cast<size_t>(n));
        off += n;
    }
    return s;
}

struct result {
    std::string out;
    sds::cli::counters n;
    bool stream_ok = true;  // the decoder took the whole input (no corrupt/truncated gzip/zstd)
};

result run(std::string_view data, size_t chunk, size_t max, bool annotate) {
    sds::cli::tool t("sds-fetch", "fuzz");
    t.common().output = "/proc/self/fd/" + std::to_string(out_fd);
    t.common().dead_letter = "/proc/self/fd/" + std::to_string(dead_fd);
    bool stream_ok = true;
    t.run([&] {
        sds::fetch::emitter em(t, annotate);
        em.begin("fuzz.json", "file:///fuzz.json");
        sds::fetch::sniffer sn(em, max);
        sds::io::auto_decoder dec(sn, 4096);
        if (auto s = sds::fuzz::feed(dec, data, chunk); !s) {
            stream_ok = false;
            ++t.count().in;  // as sds-fetch does: the stream failure is one dead letter
            t.reject(s.err().message, "fuzz.json", 0, {});
        }
        return sds::exit_code::ok;
    });
    return {read_all(out_fd), t.count(), stream_ok};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (out_fd < 0) {
        out_fd = ::memfd_create("sds-fuzz-out", 0);
        dead_fd = ::memfd_create("sds-fuzz-dead", 0);
        SDS_FUZZ_CHECK(out_fd >= 0 && dead_fd >= 0);
    }
    if (size < 2) return 0;
    size_t chunk = 1 + (bytes[0] & 63);
    bool annotate = bytes[0] & 64;
    size_t max = 16 + bytes[1] * 8;
    std::string_view data(reinterpret_cast<const char*>(bytes) + 2, size - 2);

    result whole = run(data, 0, max, annotate);
    const auto& n = whole.n;
    SDS_FUZZ_CHECK(n.in == n.out + n.rejected + n.filtered);
    simdjson::dom::parser parser;
    size_t lines = 0;
    std::string_view out = whole.out;
    while (!out.empty()) {
        size_t nl = out.find('\n');
        SDS_FUZZ_CHECK(nl != std::string_view::npos);  // every record ends with a newline
        std::string_view line = out.substr(0, nl);
        simdjson::dom::element e;
        SDS_FUZZ_CHECK(!parser.parse(line.data(), line.size(), true).get(e));
        SDS_FUZZ_CHECK(e.is_object());
        if (annotate) {
            simdjson::dom::element src;
            SDS_FUZZ_CHECK(!e["@source"]["line"].get(src));
        }
        ++lines;
        out.remove_prefix(nl + 1);
    }
    SDS_FUZZ_CHECK(lines == n.out);

    result pieces = run(data, chunk, max, annotate);
    SDS_FUZZ_CHECK(pieces.n.in == pieces.n.out + pieces.n.rejected + pieces.n.filtered);
    SDS_FUZZ_CHECK(pieces.stream_ok == whole.stream_ok);  // a broken stream is seen in any chunking
    // How much of a corrupt compressed frame is decoded before the error depends on where
    // the chunks end (zstd flushes blocks as it goes, and checks the frame only at its end),
    // so the same-output check holds for streams the decoder accepts.
    if (whole.stream_ok) {
        SDS_FUZZ_CHECK(pieces.out == whole.out);
        SDS_FUZZ_CHECK(pieces.n.rejected == whole.n.rejected && pieces.n.filtered == whole.n.filtered);
    }
    return 0;
}
