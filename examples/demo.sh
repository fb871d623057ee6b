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
echo
echo "== sds-enrich: geo/AS (bundled MaxMind test databases) and threat intel (bundled STIX + CSV feeds)"
"$bin/sds-enrich" --stats --geoip "$here/data/mmdb/GeoIP2-City-Test.mmdb" --asn "$here/data/mmdb/GeoLite2-ASN-Test.mmdb" \
  --intel "$here/data/intel/poisonivy.json" --intel "$here/data/intel/c2_beacon_20230414_iocs.csv" \
  "$out/cloudtrail.ecs.ndjson" "$here/data/intel/flows.ecs.ndjson" > "$out/enriched.ecs.ndjson" 2> "$out/enrich.stats"
echo "   sds-enrich:    $(cat "$out/enrich.stats")"
jq -c -n '[inputs | select(.threat.enrichments) | {"@timestamp", host: .host.name, destination: .destination.ip,
  indicator: .threat.enrichments[0].indicator.name, provider: .threat.enrichments[0].indicator.provider}] | .[:3][]' \
  "$out/enriched.ecs.ndjson"
echo
echo "== sds-score: built-in detections and online anomaly scoring (--learn: no model needed on day one)"
"$bin/sds-score" --stats --builtin-rules --learn --entity aws.cloudtrail.user_identity.arn --ip source.ip \
  "$out/enriched.ecs.ndjson" > "$out/scored.ecs.ndjson" 2> "$out/score.stats"
echo "   sds-score:     $(cat "$out/score.stats")"
jq -r 'select(.event.kind == "alert") | "   alert \(.event.risk_score) \(.rule.name): \(.sds.response.command // "-")"' \
  "$out/scored.ecs.ndjson"
echo
echo "== sds-ship: to a gzipped NDJSON file (give --es URL to load Elasticsearch/OpenSearch instead)"
"$bin/sds-ship" --stats --to "$out/shipped.ndjson.gz" < "$out/scored.ecs.ndjson" 2> "$out/ship.stats"
echo "   sds-ship:      $(cat "$out/ship.stats")"
