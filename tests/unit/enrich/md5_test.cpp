#include <doctest/doctest.h>

#include <string>

#include "sds/enrich/md5.hpp"

using namespace sds::enrich;

namespace {
std::string hex(const md5_digest& d) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (uint8_t b : d) {
        s.push_back(digits[b >> 4]);
        s.push_back(digits[b & 15]);
    }
    return s;
}
}  // namespace

TEST_CASE("md5: the RFC 1321 test suite") {
    CHECK(hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(hex(md5("a")) == "0cc175b9c0f1b6a831c399e269772661");
    CHECK(hex(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(hex(md5("message digest")) == "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK(hex(md5("abcdefghijklmnopqrstuvwxyz")) == "c3fcd3d76192e4007dfb496cca67e13b");
    CHECK(hex(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")) ==
          "d174ab98d277d9f5a5611c2c9f419d9f");
    CHECK(hex(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")) ==
          "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("md5: lengths around the padding boundary (55, 56, 63, 64, 65 bytes)") {
    // Reference digests from Python's hashlib.
    CHECK(hex(md5(std::string(55, 'x'))) == "04364420e25c512fd958a70738aa8f72");
    CHECK(hex(md5(std::string(56, 'x'))) == "668a72d5ba17f08e62dabcafad6db14b");
    CHECK(hex(md5(std::string(63, 'x'))) == "7dc2ca208106a2f703567bdff99d8981");
    CHECK(hex(md5(std::string(64, 'x'))) == "c1bb4f81d892b2d57947682aeb252456");
    CHECK(hex(md5(std::string(65, 'x'))) == "1bc932052302d074bdec39795fe00cf6");
}

TEST_CASE("md5: hex digests parse in either case, anything else does not") {
    md5_digest d{};
    REQUIRE(md5_from_hex("D41D8CD98F00B204E9800998ECF8427E", d));
    CHECK(d == md5(""));
    CHECK_FALSE(md5_from_hex("d41d8cd98f00b204e9800998ecf8427", d));
    CHECK_FALSE(md5_from_hex("d41d8cd98f00b204e9800998ecf8427g", d));
    CHECK_FALSE(md5_from_hex("", d));
}
