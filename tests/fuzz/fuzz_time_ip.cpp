// Time and IP parsers on arbitrary text: no crash or UB; what parses round-trips.
#include <string>

#include "fuzz_support.hpp"
#include "sds/core/ip.hpp"
#include "sds/core/time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    std::string_view s(reinterpret_cast<const char*>(bytes), size);
    namespace t = sds::time;
    // What parses prints as RFC 3339 and reads back as the same instant (years 0000..9999;
    // an offset can move a year-0000 time into the expanded form "-0001-…").
    auto round_trip = [&](t::millis ms) {
        std::string out = t::rfc3339(ms);
        SDS_FUZZ_CHECK(out.size() >= 24 && out.back() == 'Z');
        if (out[0] == '-' || out[0] == '+') return;
        auto again = t::parse_iso8601(out);
        SDS_FUZZ_CHECK(again && *again == ms);
    };
    if (auto ms = t::parse_iso8601(s)) round_trip(*ms);
    if (auto ms = t::parse_epoch(s)) (void)t::rfc3339(*ms);
    if (auto ms = t::parse_clf(s)) round_trip(*ms);
    (void)t::parse_duration(s);

    if (auto a = sds::ip::parse(s)) {
        auto text = sds::ip::to_string(*a);
        auto b = sds::ip::parse(text);
        SDS_FUZZ_CHECK(b && *b == *a);
        (void)sds::ip::is_private_or_reserved(*a);
    }
    if (auto n = sds::ip::parse_cidr(s)) {
        SDS_FUZZ_CHECK(sds::ip::contains(*n, n->base));
        SDS_FUZZ_CHECK(n->prefix >= 0 && n->prefix <= (n->base.v4 ? 32 : 128));
    }
    return 0;
}
