#pragma once
// sds-fetch's S3 and SQS sources (fetch.cpp hands s3:// sources and --sqs-queue here).
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/fetch/emitter.hpp"
#include "sds/fetch/fetch.hpp"
#include "sds/s3/client.hpp"

namespace sds::fetch {

// Checks the S3/SQS options (exit 2 on a bad value) and builds the S3 client configuration,
// credentials included (exit 3 when no credentials can be found).
expected<s3::config> s3_config(const options& o);

// Reads the given s3:// sources (listing, pruning, --jobs, --state).
exit_code run_s3(cli::tool& t, const options& o, emitter& em, const std::vector<std::string>& uris);

// Consumes S3 event notifications from --sqs-queue.
exit_code run_sqs(cli::tool& t, const options& o, emitter& em);

// Decodes one object's bytes (as they arrive) into records through the emitter.
class object_reader {
public:
    object_reader(cli::tool& t, emitter& em, const std::string& uri);
    // Takes raw (possibly compressed) bytes; false once decoding failed. Called from inside
    // libcurl's write callback: exceptions of the output (closed pipe, write error) must not
    // cross C frames, so they are kept and rethrown by finish().
    bool push(std::string_view chunk) noexcept;
    // End of the object: rethrows a kept output exception; a decoding failure is dead-lettered
    // with the object's URI. Returns ok or rejected.
    exit_code finish();

private:
    bool flush_pending();
    cli::tool& t_;
    emitter& em_;
    std::string uri_;
    sniffer sn_;
    io::auto_decoder dec_;
    io::padded_buffer pending_;
    status failed_;
    std::exception_ptr thrown_;
};

}  // namespace sds::fetch
