#pragma once
// The scoring driver applies a list of per-record stages; each may add edits to the record's
// patch (anomaly scoring today; rule-based detections can be another stage) or reject it.
#include <string>
#include <string_view>

#include "sds/cli/tool.hpp"
#include "sds/io/ndjson.hpp"
#include "sds/json/patch.hpp"

namespace sds::score {

struct verdict {
    bool reject = false;
    std::string reason;  // for the dead letter
    bool drop = false;   // not written, counted as filtered (e.g. --alerts-only)
};

class record_stage {
public:
    virtual ~record_stage() = default;
    // Called once per record, in input order; adds edits to `edits`.
    virtual verdict process(const io::record& r, json::patch& edits) = 0;
    // Called after the last record (persist state, add stats); returns the stage's outcome.
    virtual status finish(cli::tool&) { return {}; }
};

}  // namespace sds::score
