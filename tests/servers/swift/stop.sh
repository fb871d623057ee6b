#!/usr/bin/env bash
# Stops exactly what swift/start.sh started in STATE_DIR (same default as
# start.sh): the pids in STATE_DIR/swift.pids and its loop mount, if any.
# Logs and data stay for inspection; the next start.sh wipes them.
#
#   stop.sh [STATE_DIR]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../stop_pids.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${SDS_SWIFT_PORT:-${SDS_SWIFT_DEFAULT_PORT:-18080}}
state=${1:-${SDS_SWIFT_DIR:-${TMPDIR:-/tmp}/sds-swift-$port}}
[[ -d "$state" ]] || exit 0
state=$(cd "$state" && pwd)
pidfile=$state/swift.pids
rm -f "$state/swift.env"   # its presence means "running" to the tests

# A pid counts as ours only while its command line still names our launcher
# and this state dir (guards against pid reuse).
ours() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$here/launch.py $state/"; }

pids=() mounts=()
if [[ -f "$pidfile" ]]; then
  while read -r what a _; do
    case $what in
      pid) ours "$a" && pids+=("$a") ;;
      mount) mounts+=("$a") ;;
      memcached) tr '\0' ' ' 2>/dev/null <"/proc/$a/cmdline" | grep -q '^memcached ' && pids+=("$a") ;;
    esac
  done <"$pidfile"
fi
# Also any launcher of this state dir that the pid file missed (e.g. start.sh
# killed between launching and writing): match on the full, unique path.
for f in $(grep -lsaF -- "$state/etc/swift.conf" /proc/[0-9]*/cmdline); do
  p=${f#/proc/}
  p=${p%/cmdline}
  [[ $p != "$$" ]] && ours "$p" && [[ " ${pids[*]} " != *" $p "* ]] && pids+=("$p")
done

stop_pids swift "${pids[@]}"

rc=0
for m in "${mounts[@]}"; do
  if mountpoint -q "$m"; then
    umount "$m" || umount -l "$m" || rc=1
  fi
done
((rc)) || rm -f "$pidfile"
exit $rc
