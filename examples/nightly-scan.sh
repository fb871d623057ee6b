#!/usr/bin/env bash
# Nightly scan of our own hosts: a host list -> sds-scan (open ports, banners, TLS findings) ->
# sds-ship into Elasticsearch. When sds-ship is not installed, the NDJSON goes to a file instead.
#
#   HOSTS=hosts.txt ES_URL=https://es.internal:9200 examples/nightly-scan.sh
#
# hosts.txt: one address, CIDR or host name per line (# comments allowed) - only hosts you own.
# Environment: HOSTS (default hosts.txt), PORTS (default top1000), OUT_DIR (default ./scans),
# ES_URL (for sds-ship), CACERT (internal CA bundle for chain verification), RATE (default 500).
# cron: 30 1 * * *  cd /srv/sds && HOSTS=/etc/sds/hosts.txt examples/nightly-scan.sh
set -euo pipefail
HOSTS=${HOSTS:-hosts.txt}
PORTS=${PORTS:-top1000}
OUT_DIR=${OUT_DIR:-./scans}
RATE=${RATE:-500}
day=$(date -u +%Y-%m-%d)
mkdir -p "$OUT_DIR"
scan_args=(-p "$PORTS" --rate "$RATE" --tls --dead-letter "$OUT_DIR/rejected-$day.ndjson" -i "$HOSTS" --stats)
[[ -n ${CACERT:-} ]] && scan_args+=(--cacert "$CACERT")

status=0
if command -v sds-ship >/dev/null 2>&1 && [[ -n ${ES_URL:-} ]]; then
  sds-scan "${scan_args[@]}" | sds-ship --es "$ES_URL" --index 'logs-sds.scan-{@timestamp:%Y.%m.%d}' || status=$?
else
  out="$OUT_DIR/scan-$day.ndjson"
  echo "nightly-scan: sds-ship not found (or ES_URL unset): writing NDJSON to $out" >&2
  sds-scan "${scan_args[@]}" > "$out" || status=$?
fi
# 1 = some hosts in the list were unusable (see the rejected file); the others were scanned.
exit "$status"
