#pragma once
// A growable byte buffer that always keeps SIMDJSON_PADDING readable bytes past its end, so
// records inside it can be handed to simdjson without a copy.
#include <simdjson.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sds::io {

inline constexpr size_t padding = simdjson::SIMDJSON_PADDING;

class padded_buffer {
public:
    padded_buffer() = default;
    explicit padded_buffer(size_t capacity) { reserve(capacity); }

    char* data() noexcept { return data_.get(); }
    const char* data() const noexcept { return data_.get(); }
    size_t size() const noexcept { return size_; }
    size_t capacity() const noexcept { return cap_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    void clear() noexcept { size_ = 0; }
    void resize(size_t n) {
        reserve(n);
        size_ = n;
    }

    void reserve(size_t n) {
        if (n <= cap_) return;
        size_t cap = cap_ ? cap_ : 4096;
        while (cap < n) cap *= 2;
        std::unique_ptr<char[]> d(new char[cap + padding]);
        if (size_) std::memcpy(d.get(), data_.get(), size_);
        std::memset(d.get() + cap, 0, padding);
        data_ = std::move(d);
        cap_ = cap;
    }

    void append(const char* p, size_t n) {
        if (n == 0) return;  // memcpy into a never-allocated buffer is UB even for 0 bytes
        if (size_ + n > cap_) reserve(size_ + n);
        std::memcpy(data_.get() + size_, p, n);
        size_ += n;
    }
    void append(std::string_view s) { append(s.data(), s.size()); }

    // Drops the first n bytes, moving the rest to the front.
    void consume_front(size_t n) {
        if (n >= size_) {
            size_ = 0;
            return;
        }
        std::memmove(data_.get(), data_.get() + n, size_ - n);
        size_ -= n;
    }

private:
    std::unique_ptr<char[]> data_;
    size_t size_ = 0;
    size_t cap_ = 0;
};

}  // namespace sds::io
