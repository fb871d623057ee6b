#!/usr/bin/env bash
# The README's demo: the sds pipeline over the sample data bundled in examples/data.
# Usage: examples/demo.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/release}
bin=$(cd "$bin" && pwd)
out=$here/out
mkdir -p "$out"

echo "== sds-fetch | sds-normalize: CloudTrail log files (gzipped, CloudTrail's S3 layout, one digest) -> ECS"
"$bin/sds-fetch" --stats --annotate "$here/data/cloudtrail" 2> "$out/fetch.stats" \
  | "$bin/sds-normalize" --stats --dead-letter "$out/dead-letter.ndjson" 2> "$out/normalize.stats" \
  > "$out/cloudtrail.ecs.ndjson"
echo "   sds-fetch:     $(cat "$out/fetch.stats")"
echo "   sds-normalize: $(cat "$out/normalize.stats")"
echo "   $(wc -l < "$out/cloudtrail.ecs.ndjson") ECS documents in $out/cloudtrail.ecs.ndjson"
echo
echo "== the ten most frequent actions (event.action) and their outcomes"
jq -r '[.event.action, .event.outcome] | @tsv' "$out/cloudtrail.ecs.ndjson" | sort | uniq -c | sort -rn | head -10
echo
echo "== who did what from where: one document, abridged"
jq -c 'select(.event.action == "ConsoleLogin") | {"@timestamp", event: {id: .event.id, action: .event.action,
  outcome: .event.outcome}, user: .user.name, source: (.source.ip // .source.address), log: .log}' "$out/cloudtrail.ecs.ndjson" | head -1
