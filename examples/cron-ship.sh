#!/usr/bin/env bash
# A cron job for the whole pipeline, ending in sds-ship: fetch what is new, normalize it, load it
# into Elasticsearch/OpenSearch, and replay dead letters. Nothing is lost and nothing is
# duplicated: document ids come from (event.dataset, event.id), so loading a file again only
# replaces documents.
#
# Usage: examples/cron-ship.sh SOURCE ES_URL [WORK_DIR]
#   SOURCE   s3://BUCKET/PREFIX (incremental through sds-fetch --state) or a local file/folder
#   ES_URL   e.g. https://es.internal:9200
# Environment:
#   SDS_BIN         folder with the sds tools (default: ../build/release beside this script, else PATH)
#   SDS_ES_PASSWORD with SDS_ES_USER: basic auth (or put --api-key-file in SDS_SHIP_ARGS)
#   SDS_SHIP_ARGS   more sds-ship options, e.g. "--setup --concurrency 4"
#   S3_ENDPOINT     an S3-compatible endpoint for SOURCE
#
# crontab:
#   */15 * * * * SDS_ES_USER=loader SDS_ES_PASSWORD=... /opt/sds/examples/cron-ship.sh \
#       s3://my-trail/AWSLogs/ https://es.internal:9200 /var/lib/sds/ship
#
# WORK_DIR layout:
#   inbox/     raw batches fetched but not yet loaded (kept until sds-ship acknowledged them all)
#   replay/    dead-letter files to replay on the next run (after the cause was fixed, move a
#              rejected-*.ndjson file here; failures sds-ship retried to the end go here by themselves)
#   rejected/  documents the cluster refused (mapping conflicts ...): fix, then move to replay/
#   log/       each run's --stats lines
# Exit status: 0 all loaded, 1 some records rejected (see rejected/), 3 the cluster was not
# reachable (everything is kept for the next run), 2 usage.
set -euo pipefail
src=${1:?usage: cron-ship.sh SOURCE ES_URL [WORK_DIR]}
es=${2:?usage: cron-ship.sh SOURCE ES_URL [WORK_DIR]}
work=${3:-$PWD/sds-ship-work}
here=$(cd "$(dirname "$0")" && pwd)
bin=${SDS_BIN:-$here/../build/release}
tool() { if [[ -x $bin/$1 ]]; then echo "$bin/$1"; else command -v "$1"; fi; }
fetch=$(tool sds-fetch) normalize=$(tool sds-normalize) ship=$(tool sds-ship)
mkdir -p "$work"/{inbox,replay,rejected,log,state}

exec 9> "$work/state/lock"                      # one run at a time
flock -n 9 || { echo "cron-ship: previous run still busy" >&2; exit 0; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
ship_args=(--es "$es" --stats)
[[ -n ${SDS_ES_USER:-} ]] && ship_args+=(--user "$SDS_ES_USER")   # password: SDS_ES_PASSWORD
# shellcheck disable=SC2206
ship_args+=(${SDS_SHIP_ARGS:-})
worst=0
note() { if (( $1 == 3 || worst == 3 )); then worst=3; elif (( $1 > worst )); then worst=$1; fi; }

# Sorts a sds-ship dead-letter file: documents that were never acknowledged (the run stopped,
# or the cluster kept answering 429/5xx for them) go back to replay/; refused ones to rejected/.
sort_dead() {
  local dl=$1 name=$2
  [[ -s $dl ]] || { rm -f "$dl"; return 0; }
  grep -E '"reason":"(not delivered|[^"]*still failing after)' "$dl" > "$work/replay/$name" || rm -f "$work/replay/$name"
  grep -vE '"reason":"(not delivered|[^"]*still failing after)' "$dl" > "$work/rejected/$name" || rm -f "$work/rejected/$name"
  rm -f "$dl"
}

# 1. Replay step: dead letters from earlier runs (or moved here by an operator).
for f in "$work"/replay/*.ndjson; do
  [[ -e $f ]] || break
  dl=$work/state/dead-replay-$stamp.ndjson
  set +e
  "$ship" "${ship_args[@]}" --from-dead-letter --dead-letter "$dl" "$f" 2>> "$work/log/$stamp.log"
  rc=$?
  set -e
  note $rc
  if (( rc == 3 )); then rm -f "$dl"; exit 3; fi        # cluster down: keep everything for the next run
  rm -f "$f"
  sort_dead "$dl" "replayed-$stamp-$(basename "$f")"
done

# 2. Fetch what is new into the inbox (hidden until complete).
fetch_args=(--annotate)
if [[ $src == s3://* ]]; then
  fetch_args+=(--state "$work/state/fetch.state" --since 24h)
  [[ -n ${S3_ENDPOINT:-} ]] && fetch_args+=(--endpoint-url "$S3_ENDPOINT")
fi
"$fetch" "${fetch_args[@]}" "$src" -o "$work/inbox/.raw-$stamp.ndjson" \
  --dead-letter "$work/rejected/fetch-$stamp.ndjson" 2>> "$work/log/$stamp.log" || note $?
[[ -s $work/inbox/.raw-$stamp.ndjson ]] && mv "$work/inbox/.raw-$stamp.ndjson" "$work/inbox/raw-$stamp.ndjson"
rm -f "$work/inbox/.raw-$stamp.ndjson"
[[ -s $work/rejected/fetch-$stamp.ndjson ]] || rm -f "$work/rejected/fetch-$stamp.ndjson"

# 3. Normalize and ship every inbox file, oldest first. A file leaves the inbox only when sds-ship
#    handled all of it (exit 0 or 1); after exit 3 it stays and is shipped again next time.
for raw in "$work"/inbox/raw-*.ndjson; do
  [[ -e $raw ]] || break
  name=$(basename "$raw")
  dl=$work/state/dead-$name
  set +e
  "$normalize" --dead-letter "$work/rejected/normalize-$name" "$raw" 2>> "$work/log/$stamp.log" |
    "$ship" "${ship_args[@]}" --dead-letter "$dl" 2>> "$work/log/$stamp.log"
  rc=("${PIPESTATUS[@]}")
  set -e
  [[ -s $work/rejected/normalize-$name ]] || rm -f "$work/rejected/normalize-$name"
  note "${rc[0]}"
  note "${rc[1]}"
  if (( rc[1] == 3 )); then rm -f "$dl"; exit 3; fi     # keep the raw file; ids make the reload harmless
  rm -f "$raw"
  sort_dead "$dl" "$name"
done
exit $worst
