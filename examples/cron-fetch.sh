#!/usr/bin/env bash
# A cron job that pulls the last two hours of logs out of S3, incrementally: objects already read
# by an earlier run (same key, same ETag) are skipped through --state, so running it every
# 10 minutes reads each object once, and a run that dies (reboot, kill -9) loses nothing: its
# unfinished objects are read again by the next run.
#
# Usage: examples/cron-fetch.sh s3://BUCKET/PREFIX [OUT_DIR]
# Environment:
#   SDS_BIN        folder with sds-fetch (default: ../build/release beside this script, else PATH)
#   SDS_STATE_DIR  where the state file lives (default: OUT_DIR/.state)
#   S3_ENDPOINT    an S3-compatible endpoint (MinIO, Swift+s3api, the test server); default AWS
#   SDS_JOBS       concurrent downloads (default 8)
# Credentials come from the usual AWS chain (environment, profile, ECS, instance metadata).
#
# crontab:
#   */10 * * * * /opt/sds/examples/cron-fetch.sh s3://my-trail/AWSLogs/123456789012/CloudTrail/ /var/lib/sds/raw
#
# Against the project's S3 test server (tests/servers/swift/start.sh prints its endpoint):
#   AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing S3_ENDPOINT=http://127.0.0.1:18080 \
#     examples/cron-fetch.sh s3://my-bucket/AWSLogs/ /tmp/raw
#
# Each run writes OUT_DIR/raw-<UTC time>.ndjson.gz (nothing when there was nothing new) and
# exits with sds-fetch's status: 0 ok, 1 some records dead-lettered (OUT_DIR/dead-<time>.ndjson),
# 2 configuration, 3 S3 failure (the next run retries what was not finished).
set -euo pipefail
src=${1:?usage: cron-fetch.sh s3://BUCKET/PREFIX [OUT_DIR]}
out=${2:-$PWD/sds-raw}
here=$(cd "$(dirname "$0")" && pwd)
bin=${SDS_BIN:-$here/../build/release}
fetch=$bin/sds-fetch
[[ -x $fetch ]] || fetch=$(command -v sds-fetch)
state_dir=${SDS_STATE_DIR:-$out/.state}
mkdir -p "$out" "$state_dir"

# One run at a time: a slow run is not overtaken by the next cron tick.
exec 9> "$state_dir/lock"
if ! flock -n 9; then
  echo "cron-fetch: previous run still busy; skipping this one" >&2
  exit 0
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
part=$out/.raw-$stamp.ndjson   # hidden until complete
args=(--since 2h --state "$state_dir/$(printf '%s' "$src" | tr -c 'A-Za-z0-9._-' '_').state"
      --jobs "${SDS_JOBS:-8}" --annotate --stats --dead-letter "$out/dead-$stamp.ndjson" -o "$part")
[[ -n ${S3_ENDPOINT:-} ]] && args+=(--endpoint-url "$S3_ENDPOINT")

set +e
"$fetch" "${args[@]}" "$src" 2> "$out/.stderr-$stamp"
rc=$?
set -e
grep -h '^{"tool"' "$out/.stderr-$stamp" >> "$out/stats.ndjson" || true
grep -hv '^{"tool"' "$out/.stderr-$stamp" >&2 || true
rm -f "$out/.stderr-$stamp"
[[ -s $out/dead-$stamp.ndjson ]] || rm -f "$out/dead-$stamp.ndjson"
# The records written are kept even when the run failed: the state file marks only objects
# whose records are all in them, so nothing is lost and nothing needs to be re-read twice.
if [[ -s $part ]]; then
  gzip -c "$part" > "$out/raw-$stamp.ndjson.gz.tmp" && mv "$out/raw-$stamp.ndjson.gz.tmp" "$out/raw-$stamp.ndjson.gz"
fi
rm -f "$part"
exit $rc
