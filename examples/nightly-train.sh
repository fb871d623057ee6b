#!/usr/bin/env bash
# Nightly anomaly scoring of CloudTrail: which principals use which addresses.
#
#  1. train a model on the last week of CloudTrail (userIdentity.arn x sourceIPAddress);
#  2. score the live stream with it (plus online history kept in a state file, so principals
#     and addresses first seen after training are remembered from one run to the next);
#  3. write a block list of the most anomalous addresses, capped at 10,000 (the most an AWS WAF
#     IP set holds), as CIDRs ready for `aws wafv2 update-ip-set --addresses file://...`.
#
# Usage: examples/nightly-train.sh WEEK_SOURCE LIVE_SOURCE [OUT_DIR]
#   WEEK_SOURCE, LIVE_SOURCE: s3://bucket/AWSLogs/.../CloudTrail/ (WEEK read with --since 7d,
#   LIVE with --since 1d), a folder or file of CloudTrail logs, or - for NDJSON on stdin (LIVE).
# Environment:
#   SDS_BIN          folder with the sds tools (default: ../build/release beside this script, else PATH)
#   SCORE_THRESHOLD  event.risk_score at or above which an event is flagged (default 50: for
#                    CloudTrail without sds-enrich, about "a /16 new to the principal")
#   BLOCK_MAX        block list cap (default 10000)
#
# crontab (03:15 every night):
#   15 3 * * * /opt/sds/examples/nightly-train.sh s3://trail/AWSLogs/ s3://trail/AWSLogs/ /var/lib/sds/score
#
# OUT_DIR gets ct.model (replaced atomically only when training succeeds), ct.state, scored.ndjson.gz
# (every live event with sds.anomaly.* and event.risk_score) and blocklist.txt.
set -euo pipefail
week=${1:?usage: nightly-train.sh WEEK_SOURCE LIVE_SOURCE [OUT_DIR]}
live=${2:?usage: nightly-train.sh WEEK_SOURCE LIVE_SOURCE [OUT_DIR]}
out=${3:-$PWD/sds-score}
here=$(cd "$(dirname "$0")" && pwd)
bin=${SDS_BIN:-$here/../build/release}
tool() { if [[ -x $bin/$1 ]]; then echo "$bin/$1"; else command -v "$1"; fi; }
fetch=$(tool sds-fetch)
score=$(tool sds-score)
threshold=${SCORE_THRESHOLD:-50}
cap=${BLOCK_MAX:-10000}
mkdir -p "$out"

read_source() {  # SOURCE SINCE
  if [[ $1 == - ]]; then cat; elif [[ $1 == s3://* ]]; then "$fetch" --since "$2" "$1"; else "$fetch" "$1"; fi
}

# 1. Train on the week. A failed training keeps yesterday's model.
read_source "$week" 7d |
  "$score" train --entity userIdentity.arn --ip sourceIPAddress -o "$out/ct.model.new" -q
mv "$out/ct.model.new" "$out/ct.model"

# 2. Score the live stream.
rc=0
read_source "$live" 1d |
  "$score" --model "$out/ct.model" --learn --state "$out/ct.state" --threshold "$threshold" \
    --dead-letter "$out/dead.ndjson" |
  gzip > "$out/scored.ndjson.gz" || rc=$?
# 1 = some records dead-lettered (see dead.ndjson): the rest is scored, go on.
if (( rc > 1 )); then exit "$rc"; fi

# 3. The top anomalous addresses: each address's highest risk among flagged events, highest
#    first, at most $cap, as /32 (/128) CIDRs.
zcat "$out/scored.ndjson.gz" |
  jq -r 'select(.sds.anomaly.flagged == true) | "\(.event.risk_score)\t\(.sds.anomaly.ip)"' |
  sort -t$'\t' -k1,1gr -k2,2 | awk -F'\t' '!seen[$2]++' |
  head -n "$cap" |
  awk -F'\t' '{ print ($2 ~ /:/) ? $2 "/128" : $2 "/32" }' > "$out/blocklist.txt.new"
mv "$out/blocklist.txt.new" "$out/blocklist.txt"
echo "nightly-train: $(wc -l < "$out/blocklist.txt") addresses in $out/blocklist.txt" >&2
exit "$rc"
