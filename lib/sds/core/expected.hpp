#pragma once
// A small Expected<T> / Status (g++ 12 has no std::expected). Library code returns these;
// tools turn them into messages and exit codes.
#include <string>
#include <utility>
#include <variant>

namespace sds {

// Exit codes shared by every tool (DESIGN.md section 3). Higher is worse, except interrupted.
enum class exit_code : int {
    ok = 0,
    rejected = 1,     // some records dead-lettered, the rest complete
    usage = 2,        // usage or configuration error
    runtime = 3,      // I/O, network, auth failure that stopped the run
    internal = 4,     // a bug
    interrupted = 130,
};

struct error {
    exit_code code = exit_code::runtime;
    std::string message;  // "what failed: where (why)", lower-case, no tool prefix
};

template <class T>
class expected {
public:
    expected(T value) : v_(std::move(value)) {}
    expected(error e) : v_(std::move(e)) {}
    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const sds::error& err() const { return std::get<1>(v_); }

private:
    std::variant<T, sds::error> v_;
};

class status {
public:
    status() = default;
    status(error e) : err_(std::move(e)), ok_(false) {}
    static status success() { return {}; }
    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const sds::error& err() const { return err_; }

private:
    sds::error err_{};
    bool ok_ = true;
};

inline error make_error(exit_code c, std::string msg) { return error{c, std::move(msg)}; }

// The worst of two outcomes: interrupted dominates, then the numerically larger code.
inline exit_code worst(exit_code a, exit_code b) {
    if (a == exit_code::interrupted || b == exit_code::interrupted) return exit_code::interrupted;
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

}  // namespace sds
