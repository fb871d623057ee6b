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
};

// Declares sds-fetch's options on the tool.
void add_options(cli::tool& t, options& o);

// Runs the fetch; returns the worst outcome.
exit_code run(cli::tool& t, const options& o);

}  // namespace sds::fetch
