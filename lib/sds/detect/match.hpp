#pragma once
// Sigma string matching: case-insensitive, with * and ? wildcards and backslash escapes.
#include <string>
#include <string_view>
#include <vector>

namespace sds::detect {

class pattern {
public:
    enum class kind { exact, prefix, suffix, contains, glob };
    // `text` is a Sigma value (wildcards live); contains/startswith/endswith add the implied stars.
    static pattern compile(std::string_view text, bool add_leading_star, bool add_trailing_star);
    bool matches(std::string_view value) const;
    kind type() const noexcept { return kind_; }
    const std::string& literal() const noexcept { return lit_; }  // lower-cased, for exact/affix kinds

private:
    struct token {
        char c;     // lower-cased literal
        int8_t op;  // 0 literal, 1 '*', 2 '?'
    };
    kind kind_ = kind::exact;
    std::string lit_;
    std::vector<token> toks_;
};

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
bool iequals(std::string_view a, std::string_view b);

}  // namespace sds::detect
