#include "sds/io/stream.hpp"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>

#include "sds/core/signals.hpp"

namespace sds::io {

struct auto_decoder::impl {
    inflate_state gz{};
    ZSTD_DCtx* zs = nullptr;
    padded_buffer out;
    bool member_done = false;  // gzip: last member finished and no bytes since
    bool zstd_frame_done = true;
    ~impl() {
        if (zs) ZSTD_freeDCtx(zs);
    }
};

namespace {
const char* isal_error(int r) {
    switch (r) {
        case ISAL_INVALID_BLOCK: return "invalid deflate block";
        case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
        case ISAL_INVALID_LOOKBACK: return "invalid deflate distance";
        case ISAL_INVALID_WRAPPER: return "invalid gzip header";
        case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip compression method";
        case ISAL_INCORRECT_CHECKSUM: return "gzip checksum mismatch";
        default: return "corrupt gzip data";
    }
}
}  // namespace

auto_decoder::auto_decoder(chunk_consumer& next, size_t out_chunk)
    : next_(next), out_chunk_(out_chunk) {}
auto_decoder::~auto_decoder() = default;

status auto_decoder::consume(std::string_view chunk) {
    if (!started_) {
        // Wait for 4 bytes to decide (a stream shorter than that is plain).
        if (sniff_.empty() && chunk.size() >= 4) return start(chunk);
        sniff_.append(chunk);
        if (sniff_.size() < 4) return status::success();
        padded_buffer first = std::move(sniff_);
        return start(first.view());
    }
    return pass(chunk);
}

status auto_decoder::start(std::string_view chunk) {
    started_ = true;
    auto b = reinterpret_cast<const unsigned char*>(chunk.data());
    if (chunk.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        kind_ = compression::gzip;
        impl_ = std::make_unique<impl>();
        isal_inflate_init(&impl_->gz);
        impl_->gz.crc_flag = ISAL_GZIP;
    } else if (chunk.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
        kind_ = compression::zstd;
        impl_ = std::make_unique<impl>();
        impl_->zs = ZSTD_createDCtx();
        if (!impl_->zs) return make_error(exit_code::internal, "zstd: out of memory");
    }
    if (impl_) impl_->out.reserve(out_chunk_);
    return pass(chunk);
}

// Corrupt input: what was decoded before it is still delivered, then the error.
status auto_decoder::fail(std::string msg) {
    auto& st = *impl_;
    if (!st.out.empty()) {
        bytes_out_ += st.out.size();
        status s = next_.consume(st.out.view());
        st.out.clear();
        if (!s) return s;
    }
    return make_error(exit_code::rejected, std::move(msg));
}

status auto_decoder::pass(std::string_view chunk) {
    if (kind_ == compression::none) {
        bytes_out_ += chunk.size();
        return chunk.empty() ? status::success() : next_.consume(chunk);
    }
    auto& st = *impl_;
    if (kind_ == compression::gzip) {
        auto& gz = st.gz;
        gz.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(chunk.data()));
        gz.avail_in = static_cast<uint32_t>(chunk.size());
        while (gz.avail_in > 0) {
            if (st.member_done) {
                // Another gzip member follows (concatenated .gz files are one stream).
                // Trailing zero bytes after the last member are tolerated, as gzip does.
                while (gz.avail_in > 0 && *gz.next_in == 0) {
                    ++gz.next_in;
                    --gz.avail_in;
                }
                if (gz.avail_in == 0) break;
                isal_inflate_reset(&gz);
                gz.crc_flag = ISAL_GZIP;
                st.member_done = false;
            }
            gz.next_out = reinterpret_cast<uint8_t*>(st.out.data() + st.out.size());
            gz.avail_out = static_cast<uint32_t>(st.out.capacity() - st.out.size());
            size_t before = gz.avail_out;
            uint32_t in_before = gz.avail_in;
            int r = isal_inflate(&gz);
            st.out.resize(st.out.size() + (before - gz.avail_out));
            if (r < 0) return fail(isal_error(r));
            if (gz.block_state == ISAL_BLOCK_FINISH) st.member_done = true;
            else if (gz.avail_in == in_before && gz.avail_out == before)
                return fail("corrupt gzip data (no progress)");
            if (st.out.size() == st.out.capacity()) {
                bytes_out_ += st.out.size();
                if (auto s = next_.consume(st.out.view()); !s) return s;
                st.out.clear();
            }
        }
        // Flush what we have when the output is large enough; small remainders wait.
        if (st.out.size() >= out_chunk_ / 2) {
            bytes_out_ += st.out.size();
            if (auto s = next_.consume(st.out.view()); !s) return s;
            st.out.clear();
        }
        return status::success();
    }
    // zstd
    ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
    while (in.pos < in.size) {
        ZSTD_outBuffer out{st.out.data() + st.out.size(), st.out.capacity() - st.out.size(), 0};
        size_t r = ZSTD_decompressStream(st.zs, &out, &in);
        st.out.resize(st.out.size() + out.pos);  // kept even when this call fails, as for gzip
        if (ZSTD_isError(r)) return fail(std::string("zstd: ") + ZSTD_getErrorName(r));
        st.zstd_frame_done = (r == 0);
        if (st.out.size() == st.out.capacity()) {
            bytes_out_ += st.out.size();
            if (auto s = next_.consume(st.out.view()); !s) return s;
            st.out.clear();
        }
    }
    return status::success();
}

status auto_decoder::finish() {
    if (!started_) {
        started_ = true;
        if (!sniff_.empty()) {
            padded_buffer first = std::move(sniff_);
            if (auto s = start(first.view()); !s) return s;
        }
    }
    if (impl_) {
        auto& st = *impl_;
        if (kind_ == compression::gzip) {
            // Drain: isal may hold output when avail_out ran out exactly.
            while (!st.member_done) {
                auto& gz = st.gz;
                if (st.out.size() == st.out.capacity()) {
                    bytes_out_ += st.out.size();
                    if (auto s = next_.consume(st.out.view()); !s) return s;
                    st.out.clear();
                }
                gz.next_out = reinterpret_cast<uint8_t*>(st.out.data() + st.out.size());
                gz.avail_out = static_cast<uint32_t>(st.out.capacity() - st.out.size());
                size_t before = gz.avail_out;
                int r = isal_inflate(&gz);
                size_t produced = before - gz.avail_out;
                st.out.resize(st.out.size() + produced);
                if (r < 0) return fail(isal_error(r));
                if (gz.block_state == ISAL_BLOCK_FINISH) {
                    st.member_done = true;
                    break;
                }
                if (produced == 0) {
                    if (!st.out.empty()) {
                        bytes_out_ += st.out.size();
                        if (auto s = next_.consume(st.out.view()); !s) return s;
                        st.out.clear();
                    }
                    return make_error(exit_code::rejected, "truncated gzip data (unexpected end of file)");
                }
            }
        } else if (kind_ == compression::zstd && !st.zstd_frame_done) {
            if (!st.out.empty()) {
                bytes_out_ += st.out.size();
                if (auto s = next_.consume(st.out.view()); !s) return s;
                st.out.clear();
            }
            return make_error(exit_code::rejected, "truncated zstd data (unexpected end of file)");
        }
        if (!st.out.empty()) {
            bytes_out_ += st.out.size();
            if (auto s = next_.consume(st.out.view()); !s) return s;
            st.out.clear();
        }
    }
    return next_.finish();
}

expected<read_result> pump_fd(int fd, std::string_view name, chunk_consumer& sink, size_t block) {
    padded_buffer buf(block);
    read_result res;
    for (;;) {
        if (interrupted()) {
            res.stopped = true;
            return res;
        }
        ssize_t n = ::read(fd, buf.data(), block);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(exit_code::runtime,
                              std::string("cannot read: ") + std::string(name) + " (" + std::strerror(errno) + ")");
        }
        if (n == 0) return res;
        res.bytes += static_cast<uint64_t>(n);
        if (auto s = sink.consume({buf.data(), static_cast<size_t>(n)}); !s) return s.err();
    }
}

}  // namespace sds::io
