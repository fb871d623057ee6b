#!/usr/bin/env bash
# Incident walkthrough: which of our hosts talked to an indicator of compromise in the last 24 h?
#
#   examples/investigate-ioc.sh [BUILD_DIR] [RECORDS.ndjson]
#
# With no RECORDS it runs on the bundled sample (examples/data/intel/flows.ecs.ndjson), whose
# "now" is its newest record; with your own ECS records (sds-fetch | sds-normalize output),
# "now" is the wall clock. Intelligence: a STIX 2.1 bundle and a CSV feed bundled in
# examples/data/intel; add your own with more --intel (MISP feed folders, MISP exports, lists)
# or --misp-url/--misp-key-file. A MISP feed mirrored in part (only some event files fetched)
# still matches the values of the other events when the feed publishes hashes.csv: those
# matches name the event (indicator.reference misp:event/<uuid>) to fetch and read. Needs jq.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/release}
records=${2:-$here/data/intel/flows.ecs.ndjson}
intel=$here/data/intel
mmdb=$here/data/mmdb

if [[ $# -ge 2 ]]; then now=$(date -u +%s); else
  now=$(jq -r '."@timestamp"' "$records" | sort | tail -1 | jq -R 'sub("\\.[0-9]+Z$";"Z") | fromdateiso8601')
fi
since=$((now - 24 * 3600))

echo "== 1. enrich: geo/AS for every address, matches against the intelligence (benign ranges dropped)"
"$bin/sds-enrich" --stats \
  --geoip "$mmdb/GeoIP2-City-Test.mmdb" --asn "$mmdb/GeoLite2-ASN-Test.mmdb" \
  --intel "$intel/poisonivy.json" --intel "$intel/c2_beacon_20230414_iocs.csv" \
  --warninglists "$intel/warninglist-rfc1918" \
  "$records" > /tmp/sds-investigate.$$.ndjson 2> /tmp/sds-investigate.$$.stats
echo "   $(tail -1 /tmp/sds-investigate.$$.stats)"
echo
echo "== 2. records of the last 24 h that matched an indicator"
jq -c --argjson since "$since" '
  select(.threat.enrichments)
  | select((."@timestamp" | sub("\\.[0-9]+Z$";"Z") | fromdateiso8601) >= $since)
  | {"@timestamp", host: .host.name, source: .source.ip, destination: .destination.ip,
     country: .destination.geo.country_iso_code, as: .destination.as.organization.name,
     matched: [.threat.enrichments[] | {field: .matched.field, atomic: .matched.atomic,
               indicator: .indicator.name, provider: .indicator.provider}]}' /tmp/sds-investigate.$$.ndjson
echo
echo "== 3. per host: how many contacts, with which indicators, first and last time"
jq -r --argjson since "$since" '
  select(.threat.enrichments)
  | select((."@timestamp" | sub("\\.[0-9]+Z$";"Z") | fromdateiso8601) >= $since)
  | [.host.name, (.threat.enrichments[].indicator.name), ."@timestamp"] | @tsv' /tmp/sds-investigate.$$.ndjson \
  | sort | awk -F'\t' '{k=$1"\t"$2; n[k]++; if(!(k in f)) f[k]=$3; l[k]=$3}
      END {for (k in n) printf "%s\t%d contact(s)\t%s .. %s\n", k, n[k], f[k], l[k]}' | sort
rm -f /tmp/sds-investigate.$$.ndjson /tmp/sds-investigate.$$.stats
