#!/usr/bin/env bash
# CI gate: fail the pipeline when a window of CloudTrail has a high- or critical-severity alert.
#   examples/ci-gate.sh [CLOUDTRAIL FILES, FOLDERS or s3://… ...]   (default: the bundled samples)
# Runs SigmaHQ-style rules (RULES_DIR, if set) and sds's built-in pack; prints each alert with
# its suggested remediation (never runs it); exit 1 when one is high or critical, 0 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SDS_BIN:-$here/../build/release}
sources=("$@")
[[ ${#sources[@]} -gt 0 ]] || sources=("$here/data/cloudtrail")
rules=(--builtin-rules)
[[ -n ${RULES_DIR:-} ]] && rules+=(--sigma "$RULES_DIR")

alerts=$("$bin/sds-fetch" "${sources[@]}" | "$bin/sds-normalize" | "$bin/sds-score" "${rules[@]}" --alerts-only)
high=$(printf '%s' "$alerts" | jq -c 'select(.event.risk_score >= 73)' | wc -l)
printf '%s' "$alerts" | jq -r '"\(.event.risk_score)\t\(.["@timestamp"])\t\(.rule.name)\t\(.event.action)\t\(.sds.response.command // "-")"'
if [[ $high -gt 0 ]]; then
  echo "ci-gate: $high high-severity alert(s) — failing" >&2
  exit 1
fi
echo "ci-gate: no high-severity alert" >&2
