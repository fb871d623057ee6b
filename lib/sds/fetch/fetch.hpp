#pragma once
// sds-fetch: raw records out of local files, folders and stdin (and, through the S3 module,
// out of S3), unwrapped into one NDJSON line per record.
#include <cstdint>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"

namespace sds::fetch {

struct options {
    std::vector<std::string> sources;  // files, folders, "-"
    bool annotate = false;             // add "@source":{"uri","line"}
    std::vector<std::string> include;  // globs on paths/keys (relative to the folder given)
    std::vector<std::string> exclude;

    // S3 (s3:// sources) and SQS.
    std::string endpoint_url;          // S3-compatible endpoint; empty = AWS
    std::string region;                // empty: AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1
    std::string profile;
    std::string addressing = "auto";   // auto | path | virtual
    std::string since, until;          // durations before now or RFC 3339 times
    unsigned jobs = 1;                 // concurrent downloads
    bool unordered = false;            // objects in completion order instead of key order
    std::string state;                 // --state FILE
    unsigned retries = 4;
    unsigned list_page_size = 1000;    // max-keys of each ListObjectsV2 request              // retries after the first attempt
    std::string sqs_queue;             // --sqs-queue URL
    unsigned sqs_wait = 20;            // long-poll seconds
    unsigned sqs_visibility = 300;     // visibility timeout (seconds), extended while in flight
    bool sqs_exit_when_empty = false;  // stop after a poll that returns no messages
    uint64_t sqs_max_messages = 0;     // stop after this many messages (0 = no limit)
};

// Declares sds-fetch's options on the tool.
void add_options(cli::tool& t, options& o);

// Runs the fetch; returns the worst outcome.
exit_code run(cli::tool& t, const options& o);

}  // namespace sds::fetch
