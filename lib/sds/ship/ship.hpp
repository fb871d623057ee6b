#pragma once
// sds-ship: NDJSON records into Elasticsearch/OpenSearch (_bulk), a file, or S3.
#include <cstdint>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"

namespace sds::ship {

struct options {
    std::vector<std::string> inputs;
    // Elasticsearch / OpenSearch
    std::vector<std::string> es;  // base URLs, round-robin with failover
    std::string index = "logs-{event.dataset}-{@timestamp:%Y.%m.%d}";
    std::string op = "create";
    std::string id_field;
    bool no_id = false;
    std::string pipeline;
    std::string batch_bytes_text = "5MiB";
    uint64_t batch_bytes = 5ull << 20;
    uint64_t batch_docs = 10000;
    double flush_interval = 5.0;
    bool compress = false;
    int concurrency = 2;
    int max_retries = 10;
    double retry_max_time = 300.0;
    double retry_delay = 0.2;
    double retry_max_delay = 30.0;
    double timeout = 120.0;
    bool setup = false;
    std::string template_name = "sds";
    bool refresh = false;
    // auth and TLS
    std::string user;
    std::string password_file;
    std::string api_key_file;
    std::string aws_sigv4;  // "", "es", "aoss"
    std::string region;
    std::string profile;
    std::string cacert;
    bool insecure = false;
    // input
    bool from_dead_letter = false;
    // other sinks
    std::string to;  // FILE, FILE.gz, s3://bucket/prefix/
    std::string endpoint_url;
    std::string roll_bytes_text = "64MiB";
    uint64_t roll_bytes = 64ull << 20;
    double roll_interval = 300.0;
    std::string partition_field = "@timestamp";
};

void add_options(cli::tool& t, options& o);
exit_code run(cli::tool& t, options& o);

}  // namespace sds::ship
