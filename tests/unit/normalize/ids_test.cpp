// The event.id fallbacks are computed in one pass in normalize.cpp: they must equal
// hash::hex128 of the key (ids never change between versions).
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "sds/core/hash.hpp"
#include "sds/normalize/normalize.hpp"

using sds::normalize::normalizer;

TEST_CASE("normalize: content and provenance ids equal hash::hex128 of their key") {
    std::mt19937 rng(99);
    for (int round = 0; round < 500; ++round) {
        std::string s(rng() % 3000, ' ');
        for (char& c : s) c = static_cast<char>(rng());
        CHECK(normalizer::content_id(s) == sds::hash::hex128(s));
        uint64_t line = rng() % 1000000;
        std::string uri = s.substr(0, s.size() % 200);
        CHECK(normalizer::provenance_id(uri, line) == sds::hash::hex128(uri + "\n" + std::to_string(line)));
    }
}
