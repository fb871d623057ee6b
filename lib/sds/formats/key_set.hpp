#pragma once
// A fixed set of object keys with a perfect hash found at compile time, so a parser can read an
// object's members in one pass (each key: one hash, one compare) instead of looking every field
// up with at_key (a walk over all the members each time).
#include <simdjson.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace sds::formats {

namespace detail {
constexpr uint64_t key_word(const char* p, size_t n) noexcept {
    // Up to 8 bytes, little-endian: a plain load at run time, bytes when constant-evaluated.
    if (!std::is_constant_evaluated() && n == 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        return w;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; ++i) w |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    return w;
}
template <unsigned Bits>
constexpr uint64_t key_hash(std::string_view k, uint64_t mult) noexcept {
    const size_t n = k.size();
    uint64_t a = n >= 8 ? key_word(k.data(), 8) : key_word(k.data(), n);
    uint64_t b = n >= 8 ? key_word(k.data() + n - 8, 8) : 0;
    uint64_t x = a ^ ((b << 29) | (b >> 35)) ^ (uint64_t(n) << 56);
    return (x * mult) >> (64 - Bits);
}
// a == b for strings of the same length n, without a call to memcmp (keys are short).
inline bool same_bytes(const char* a, const char* b, size_t n) noexcept {
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (key_word(a + i, 8) != key_word(b + i, 8)) return false;
        return key_word(a + n - 8, 8) == key_word(b + n - 8, 8);
    }
    return key_word(a, n) == key_word(b, n);
}
}  // namespace detail

template <size_t N, unsigned Bits = 7>
class key_set {
public:
    static_assert(N < 64, "a key_set holds at most 63 keys");
    static_assert((size_t(1) << Bits) >= 2 * N, "a key_set needs at least twice as many slots as keys");
    static constexpr int none = -1;

    consteval explicit key_set(const std::array<std::string_view, N>& keys) : keys_(keys) {
        for (uint64_t m = 0x9E3779B97F4A7C15ULL;; m += 0x2545F4914F6CDD1EULL) {
            slots_.fill(-1);
            bool ok = true;
            for (size_t i = 0; i < N && ok; ++i) {
                auto h = detail::key_hash<Bits>(keys_[i], m);
                if (slots_[h] >= 0) ok = false;
                else slots_[h] = static_cast<int8_t>(i);
            }
            if (ok) {
                mult_ = m;
                return;
            }
        }
    }
    // The index of `key` in the set, or none.
    int find(std::string_view key) const noexcept {
        int i = slots_[detail::key_hash<Bits>(key, mult_)];
        if (i < 0) return none;
        std::string_view k = keys_[size_t(i)];
        return k.size() == key.size() && detail::same_bytes(k.data(), key.data(), k.size()) ? i : none;
    }
    constexpr bool contains(std::string_view key) const noexcept {
        for (const auto& k : keys_)
            if (k == key) return true;
        return false;
    }
    // Compile-time index of a key of the set.
    consteval size_t operator[](std::string_view key) const {
        for (size_t i = 0; i < N; ++i)
            if (keys_[i] == key) return i;
        throw "key not in the set";  // NOLINT: a compile-time error
    }

private:
    std::array<std::string_view, N> keys_;
    std::array<int8_t, size_t(1) << Bits> slots_{};
    uint64_t mult_ = 0;
};

// The members of one object, read in one pass: the first occurrence of each key of the set (as
// at_key would find it).
template <size_t N>
struct key_values {
    std::array<simdjson::dom::element, N> v{};
    uint64_t present = 0;

    void read(const key_set<N>& keys, simdjson::dom::object o) noexcept {
        present = 0;
        for (auto field : o) {
            int i = keys.find(field.key);
            if (i < 0 || (present >> i) & 1) continue;
            present |= uint64_t(1) << i;
            v[size_t(i)] = field.value;
        }
    }
    bool has(size_t i) const noexcept { return (present >> i) & 1; }
    // As json_format's str/obj/val: the string (empty when absent or not a string), the object,
    // the value when present and not null.
    std::string_view str(size_t i) const noexcept {
        std::string_view s;
        if (!has(i) || v[i].get_string().get(s)) return {};
        return s;
    }
    bool obj(size_t i, simdjson::dom::object& out) const noexcept { return has(i) && !v[i].get_object().get(out); }
    bool val(size_t i, simdjson::dom::element& out) const noexcept {
        if (!has(i) || v[i].is_null()) return false;
        out = v[i];
        return true;
    }
};

}  // namespace sds::formats
