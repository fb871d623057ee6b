#!/usr/bin/env bash
# Stops exactly the moto_server that moto/start.sh started in STATE_DIR (same
# default as start.sh). The log stays for inspection.
#
#   stop.sh [STATE_DIR]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../stop_pids.sh"

port=${SDS_MOTO_PORT:-${SDS_MOTO_DEFAULT_PORT:-18081}}
state=${1:-${SDS_MOTO_DIR:-${TMPDIR:-/tmp}/sds-moto-$port}}
[[ -d "$state" ]] || exit 0
state=$(cd "$state" && pwd)
rm -f "$state/moto.env"   # its presence means "running" to the tests

# Ours = started by start.sh for this state dir (tagged in its environment);
# guards against pid reuse and finds a server the pid file missed.
ours() { tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qxF -- "SDS_MOTO_STATE=$state"; }

pids=()
if [[ -f "$state/moto.pids" ]]; then
  while read -r what a _; do
    [[ $what == pid ]] && ours "$a" && pids+=("$a")
  done <"$state/moto.pids"
fi
for f in $(grep -lsazxF -- "SDS_MOTO_STATE=$state" /proc/[0-9]*/environ); do
  p=${f#/proc/}
  p=${p%/environ}
  ours "$p" && [[ " ${pids[*]} " != *" $p "* ]] && pids+=("$p")
done

stop_pids moto "${pids[@]}"
rm -f "$state/moto.pids"
