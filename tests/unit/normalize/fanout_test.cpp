// A Security Hub event fans out into one document per finding; when one finding cannot be used
// the whole event is rejected and nothing of it stays in the output buffer (found by the
// normalize_auto fuzz target: a second finding without UpdatedAt/CreatedAt).
#include <doctest/doctest.h>

#include <string>

#include "sds/normalize/normalize.hpp"

using sds::normalize::normalizer;

namespace {
std::string event_with(const std::string& second_finding) {
    return R"({"version":"0","id":"8e5622f9-d81c-4d81-612a-9319e7ee2506","detail-type":"Security Hub Findings - Imported",)"
           R"("source":"aws.securityhub","account":"123456789012","time":"2024-05-01T12:00:00Z","region":"us-east-1",)"
           R"("resources":[],"detail":{"findings":[{"SchemaVersion":"2018-10-08","Id":"f-1","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty",)"
           R"("AwsAccountId":"123456789012","Types":["TTPs"],"CreatedAt":"2024-05-01T11:00:00Z","UpdatedAt":"2024-05-01T11:30:00Z",)"
           R"("Severity":{"Label":"HIGH"},"Title":"first","Description":"d","Resources":[{"Type":"AwsEc2Instance","Id":"i-1"}]},)" +
           second_finding + "]}}";
}
}  // namespace

TEST_CASE("normalize securityhub: a bad finding rejects the whole event and appends nothing") {
    sds::normalize::options o;
    o.format = "auto";
    auto n = normalizer::make(o);
    REQUIRE(n);
    std::string out = "earlier\n";
    const std::string good = R"({"SchemaVersion":"2018-10-08","Id":"f-2","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty",)"
                             R"("AwsAccountId":"123456789012","Types":["TTPs"],"CreatedAt":"2024-05-01T11:00:00Z","UpdatedAt":"2024-05-01T11:40:00Z",)"
                             R"("Severity":{"Label":"LOW"},"Title":"second","Description":"d","Resources":[{"Type":"AwsEc2Instance","Id":"i-2"}]})";
    REQUIRE((*n)->process_line(event_with(good), out));
    CHECK((*n)->extra_outputs() == 1);
    size_t docs = 0;
    for (char c : out) docs += c == '\n';
    CHECK(docs == 3);  // "earlier" and two findings

    out = "earlier\n";
    const std::string no_time = R"({"SchemaVersion":"2018-10-08","Id":"f-3","Title":"no time","Severity":{"Label":"LOW"}})";
    auto st = (*n)->process_line(event_with(no_time), out);
    CHECK(!st);
    CHECK(out == "earlier\n");
    CHECK(!(*n)->process_line(event_with("7"), out));  // a finding that is not an object
    CHECK(out == "earlier\n");
}
