#pragma once
// SQS (JSON protocol) for the scale-out source: ReceiveMessage (long poll), DeleteMessage,
// ChangeMessageVisibility; and the S3 event notifications the messages carry.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sds/aws/credentials.hpp"
#include "sds/core/expected.hpp"
#include "sds/net/http.hpp"
#include "sds/s3/client.hpp"

namespace sds::s3 {

struct sqs_message {
    std::string id;
    std::string receipt;
    std::string body;
};

struct sqs_config {
    std::string queue_url;
    std::string region;  // empty: from the queue URL's host (sqs.REGION.amazonaws.com), else us-east-1
    std::shared_ptr<aws::credentials_provider> creds;
    int max_attempts = 5;
};

// The region in an AWS queue URL (https://sqs.eu-west-1.amazonaws.com/…), or empty.
std::string region_of_queue_url(std::string_view url);

class sqs_client {
public:
    explicit sqs_client(sqs_config cfg);
    expected<std::vector<sqs_message>> receive(int max_messages, int wait_seconds, int visibility_seconds);
    status remove(const std::string& receipt);
    status change_visibility(const std::string& receipt, int seconds);

private:
    expected<std::string> call(std::string_view action, const std::string& body, std::chrono::seconds timeout);
    sqs_config cfg_;
    std::string endpoint_;
    net::client http_;
};

// The objects an S3 event notification names: raw S3 events ({"Records":[…]}), the same wrapped
// in an SNS notification, and EventBridge "Object Created" events. Test events
// (s3:TestEvent) and other event kinds give an empty list; anything else is an error.
expected<std::vector<object>> parse_notification(std::string_view body);

}  // namespace sds::s3
