#!/usr/bin/env bash
# The README's demo: the sds pipeline over the sample data bundled in examples/data.
# Usage: examples/demo.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/release}
bin=$(cd "$bin" && pwd)
out=$here/out
mkdir -p "$out"

echo "== sds-fetch: CloudTrail log files (gzipped, CloudTrail's S3 layout, one digest) -> raw NDJSON"
"$bin/sds-fetch" --stats --annotate "$here/data/cloudtrail" > "$out/raw.ndjson" 2> "$out/fetch.stats"
echo "   stats: $(cat "$out/fetch.stats")"
echo "   $(wc -l < "$out/raw.ndjson") records in $out/raw.ndjson"
echo
echo "== the ten most frequent API calls"
jq -r '.eventName' "$out/raw.ndjson" | sort | uniq -c | sort -rn | head -10
