#pragma once
// The input loop shared by the NDJSON filters: every FILE (or stdin), gzip/zstd detected,
// lines parsed, bad lines dead-lettered and counted, good records handed to `fn`.
#include <functional>
#include <string>
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/io/ndjson.hpp"

namespace sds::cli {

using record_fn = std::function<status(const io::record&)>;

// Returns the outcome of reading (ok, rejected, runtime when nothing could be read or a
// handler failed). Counts `in`, `rejected` and `bytes_in` on the tool; the handler counts
// `out`/`filtered` (and may call tool.reject for records it cannot handle).
exit_code read_records(tool& t, const std::vector<std::string>& inputs, const record_fn& fn);

// Opens one input ("-" = stdin) and pushes its raw bytes into `sink`, then finish().
// Returns raw bytes read; errors name the file.
expected<uint64_t> pump_path(const std::string& path, io::chunk_consumer& sink);

}  // namespace sds::cli
