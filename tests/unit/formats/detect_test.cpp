#include <doctest/doctest.h>

#include "conformance.hpp"
#include "sds/formats/access_log.hpp"
#include "sds/formats/alb.hpp"
#include "sds/formats/squid.hpp"
#include "sds/formats/vpcflow.hpp"

using namespace sds;

namespace {

enum which { is_elb, is_vpcflow, is_squid, is_access, is_none };

void check_only(which w, const std::vector<std::string>& lines) {
    for (const auto& l : lines) {
        CHECK_MESSAGE(formats::looks_like_elb(l) == (w == is_elb), "elb? ", l);
        CHECK_MESSAGE(formats::looks_like_vpcflow(l) == (w == is_vpcflow), "vpcflow? ", l);
        CHECK_MESSAGE(formats::looks_like_squid(l) == (w == is_squid), "squid? ", l);
        CHECK_MESSAGE(formats::looks_like_access_log(l) == (w == is_access), "access log? ", l);
    }
}

}  // namespace

TEST_CASE("detectors: each format's samples fire only their own detector") {
    check_only(is_elb, test::read_lines(std::string(SDS_TEST_DATA) + "/formats/alb/aws-docs-examples.log"));
    check_only(is_vpcflow, test::read_lines(std::string(SDS_TEST_DATA) + "/formats/vpcflow/aws-docs-examples.log"));
    if (!test::have_shared_testdata()) {
        MESSAGE("skipped the Elastic samples: ../shared/testdata is absent");
        return;
    }
    auto shared = [](const char* p) { return test::read_lines(test::shared_testdata(p)); };
    check_only(is_elb, shared("ecs-pipeline/aws-elb_logs/test-alb.log"));
    check_only(is_vpcflow, shared("ecs-pipeline/aws-vpcflow/test-extra-samples.log"));
    check_only(is_vpcflow, shared("ecs-pipeline/aws-vpcflow/test-tgw-samples.log"));
    check_only(is_vpcflow, shared("ecs-pipeline/aws-vpcflow/test-v5-all-fields.log"));
    check_only(is_squid, shared("ecs-pipeline/squid-log/test-access-extensive.log"));
    check_only(is_squid, shared("web-access-logs/squid/test-access.log"));
    check_only(is_access, shared("ecs-pipeline/nginx-access/test-test-with-host.log"));
    check_only(is_access, shared("ecs-pipeline/apache-access/test-access-ssl-request.log"));
    check_only(is_access, shared("web-access-logs/apache/test-access-basic.log"));
}

TEST_CASE("detectors: JSON records and garbage fire none") {
    check_only(is_none, {R"({"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z"})", "garbage", "", "   ", "2",
                           "http", "[", "1.5 x y z"});
}
