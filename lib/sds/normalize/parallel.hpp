#pragma once
// sds-normalize on several threads (--threads N): the main thread reads and cuts the input into
// batches of whole lines, worker threads normalise the batches, and the main thread writes each
// batch's documents and dead letters strictly in input order, so the output, the dead letters
// and the counters are exactly those of a single-threaded run.
//
// The only state carried from line to line is a VPC Flow header's layout. A batch is started
// with the layout the previous batch is expected to end with; when that guess proves wrong (a
// header inside the previous batch changed it), the batch is normalised again, in order, on
// the main thread with the right layout before it is written.
#include <vector>

#include "sds/cli/tool.hpp"
#include "sds/normalize/normalize.hpp"

namespace sds::normalize {

// Reads `o.inputs` like cli::read_records and normalises them on `threads` workers (>= 2).
exit_code run_parallel(cli::tool& t, const options& o, unsigned threads);

}  // namespace sds::normalize
